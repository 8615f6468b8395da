import { describe, expect, it, vi } from 'vitest';
import { ownedPermit } from '../../src/internal/permit.js';

describe('ownedPermit', () => {
  it('gives its amount back to its owner exactly once, by release or dispose', () => {
    const owner = { releasePermit: vi.fn() };
    const permit = ownedPermit(owner, 3);
    expect(permit.owner).toBe(owner);
    permit.release();
    permit.release();
    permit[Symbol.dispose]();
    expect(owner.releasePermit).toHaveBeenCalledTimes(1);
    expect(owner.releasePermit).toHaveBeenCalledWith(3);
    expect(permit.owner).toBeNull();
  });

  it('is released by a using declaration, and not again if released inside it', () => {
    const owner = { releasePermit: vi.fn() };
    {
      using permit = ownedPermit(owner, 1);
      permit.release();
    }
    expect(owner.releasePermit).toHaveBeenCalledTimes(1);
  });

  it('counts as released before the owner runs, so a re-entrant release is a no-op', () => {
    const calls: number[] = [];
    const owner = {
      releasePermit: (amount: number): void => {
        calls.push(amount);
        permit.release();
      },
    };
    const permit = ownedPermit(owner, 2);
    permit.release();
    expect(calls).toEqual([2]);
  });
});
