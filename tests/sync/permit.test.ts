import { describe, expect, it, vi } from 'vitest';
import { OwnedPermit } from '../../src/internal/permit.js';

describe('OwnedPermit', () => {
  it('gives its amount back to its owner exactly once, by release or dispose', () => {
    const owner = { releasePermit: vi.fn() };
    const permit = new OwnedPermit(owner, 3);
    expect(permit.released).toBe(false);
    permit.release();
    permit.release();
    permit[Symbol.dispose]();
    expect(owner.releasePermit).toHaveBeenCalledTimes(1);
    expect(owner.releasePermit).toHaveBeenCalledWith(3);
    expect(permit.released).toBe(true);
  });

  it('is released by a using declaration, and not again if released inside it', () => {
    const owner = { releasePermit: vi.fn() };
    {
      using permit = new OwnedPermit(owner, 1);
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
    const permit = new OwnedPermit(owner, 2);
    permit.release();
    expect(calls).toEqual([2]);
  });
});
