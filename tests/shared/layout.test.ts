/**
 * `checkInvariants` (src/shared/layout.ts) accepts the states the slot table makes and names each rule a corrupted
 * memory breaks; the guard (src/shared/guard.ts) is taken, given back, and taken over from a dead holder.
 */
import { describe, expect, it } from 'vitest';
import { ClosedError } from '../../src/errors.js';
import { dropGuard, guardTag, takeGuard, takeGuardFromDead } from '../../src/shared/guard.js';
import {
  checkInvariants,
  H_AVAILABLE,
  H_CLOSED,
  H_FREE,
  H_GUARD,
  H_PENDING,
  H_SLOT_WAITERS,
  H_TAIL,
  HEADER_INTS,
  initLayout,
  S_NEXT,
  S_PREV,
  S_STATE,
  S_TICKET,
  S_WEIGHT,
  SLOT_INTS,
  slotBase,
} from '../../src/shared/layout.js';
import * as table from '../../src/shared/slot-table.js';

const events: table.SlotEvents = {
  slotGranted: () => {},
  slotFreed: () => {},
  slotClosed: () => false,
};

/** A semaphore of 3 permits: owner 1 holds 2 (slot a), owners 2 and 3 wait for 2 each (slots b, c). */
function busyTable(): { s: Int32Array; a: number; b: number; c: number } {
  const s = new Int32Array(new SharedArrayBuffer((HEADER_INTS + 4 * SLOT_INTS) * 4));
  initLayout(s, 2, 3, 4);
  const g = takeGuard(s, guardTag(0));
  const a = table.takePermits(s, g, 2, 1, -1, events);
  const b = table.enqueue(s, g, 2, 2, events);
  const c = table.enqueue(s, g, 3, 2, events);
  table.grant(s, g, events);
  dropGuard(s, g);
  return { s, a, b, c };
}

describe('checkInvariants', () => {
  it('accepts a new lock and a busy one', () => {
    const { s } = busyTable();
    expect(() => checkInvariants(s)).not.toThrow();
    expect(s[H_PENDING]).toBe(2);
  });

  it.each([
    ['1', ({ s }: ReturnType<typeof busyTable>) => (s[H_AVAILABLE] = 0)],
    ['1', ({ s, a }: ReturnType<typeof busyTable>) => (s[slotBase(a) + S_WEIGHT] = 3)],
    ['2', ({ s }: ReturnType<typeof busyTable>) => (s[H_PENDING] = 1)],
    ['2', ({ s, c }: ReturnType<typeof busyTable>) => (s[slotBase(c) + S_PREV] = -1)],
    [
      '2',
      ({ s, b, c }: ReturnType<typeof busyTable>) => (s[slotBase(c) + S_TICKET] = s[slotBase(b) + S_TICKET]!),
    ],
    ['2', ({ s, b }: ReturnType<typeof busyTable>) => (s[H_TAIL] = b)],
    ['2', ({ s, c }: ReturnType<typeof busyTable>) => (s[slotBase(c) + S_NEXT] = c)],
    ['3', ({ s }: ReturnType<typeof busyTable>) => (s[H_FREE] = -1)],
    ['3', ({ s, a }: ReturnType<typeof busyTable>) => (s[H_FREE] = a)],
    [
      '4',
      ({ s, a }: ReturnType<typeof busyTable>) => ((s[slotBase(a) + S_WEIGHT] = 0), (s[H_AVAILABLE] = 3)),
    ],
    ['5', ({ s, b }: ReturnType<typeof busyTable>) => (s[slotBase(b) + S_WEIGHT] = 4)],
    ['6', ({ s }: ReturnType<typeof busyTable>) => (s[H_CLOSED] = 1)],
  ])('names rule %s when the memory breaks it (case %#)', (rule, corrupt) => {
    const busy = busyTable();
    corrupt(busy);
    expect(() => checkInvariants(busy.s)).toThrow(
      new RegExp(`^shared lock invariants broken:[^]*\\n${rule}: `),
    );
  });

  it('names a slot waiter count below zero and a slot in an unknown state', () => {
    const { s, a } = busyTable();
    s[H_SLOT_WAITERS] = -1;
    s[slotBase(a) + S_STATE] = 9;
    expect(() => checkInvariants(s)).toThrow(
      /H_SLOT_WAITERS is -1[^]*unknown state 9|unknown state 9[^]*H_SLOT_WAITERS/,
    );
  });
});

describe('the guard', () => {
  it('is taken and given back; its word names the holder', () => {
    const { s } = busyTable();
    const g = takeGuard(s, guardTag(5));
    expect(s[H_GUARD]).toBe(guardTag(5));
    dropGuard(s, g);
    expect(s[H_GUARD]).toBe(0);
  });

  it('is taken over from a thread declared dead that holds it, after a grace period', () => {
    const { s } = busyTable();
    s[H_GUARD] = guardTag(7) | 1;
    const started = performance.now();
    const g = takeGuardFromDead(s, guardTag(0), 7);
    expect(performance.now() - started).toBeGreaterThanOrEqual(15);
    expect(s[H_GUARD]).toBe(guardTag(0) | 1);
    dropGuard(s, g);
    expect(s[H_GUARD]).toBe(0);
  });

  it('is taken at once for recovery when free', () => {
    const { s } = busyTable();
    const g = takeGuardFromDead(s, guardTag(0), 7);
    expect(s[H_GUARD]).toBe(guardTag(0) | 1);
    dropGuard(s, g);
  });
});

describe('closing', () => {
  it("rejects with a ClosedError naming the lock's own class", async () => {
    const { SharedMutex, SharedSemaphore } = await import('../../src/shared/index.js');
    const { SharedCore } = await import('../../src/shared/core.js');
    // A SharedMutex has no close() of its own; its engine is the semaphore's.
    const mutex = new SharedMutex();
    const core = SharedCore.of(mutex.handle.buffer);
    const held = await mutex.lock();
    const waiting = mutex.lock();
    core.close(undefined);
    await expect(waiting).rejects.toThrow(new ClosedError('SharedMutex closed'));
    held.release();
    const sem = new SharedSemaphore(1);
    sem.close();
    await expect(sem.acquire()).rejects.toThrow(new ClosedError('SharedSemaphore closed'));
  });
});
