/**
 * The guard around every change to a lock's shared memory: a futex-style spinlock in the header word `H_GUARD`,
 * held for a few dozen instructions and never across a wait, and the way to take it over from a thread that died
 * holding it.
 *
 * The word is 0 when the guard is free; its holder stores (thread id + 1) << 1 there, with bit 0 set once other
 * threads park on it (then releasing wakes one). Keeping the holder in the same word costs nothing on the fast path
 * and lets recovery tell a guard held by a dead thread.
 *
 * Taking the guard gives a {@link Guarded} token, which only this module makes; every function that changes the
 * memory (slot-table.ts) takes one, so "only under the guard" is checked by the compiler.
 */
import { canAtomicsWait } from './environment.js';
import { H_GUARD } from './layout.js';

declare const guardedBrand: unique symbol;

/** Proof that the caller holds the guard: only {@link takeGuard} and {@link takeGuardFromDead} give one. */
export interface Guarded {
  readonly [guardedBrand]: true;
}

/** The one token: it carries no data, only its type matters. */
const GUARDED = Object.freeze({}) as Guarded;

/** Spins on the guard before parking on it. */
const GUARD_SPINS = 64;
/** How long a guard must stay held by a thread declared dead before recovery takes it over. */
const GUARD_STEAL_MS = 20;

/** What thread `thread` writes into the guard word while it holds the guard. */
export function guardTag(thread: number): number {
  return (thread + 1) << 1;
}

/** Takes the guard of `s` for the thread whose {@link guardTag} is `tag`, spinning then parking while it is held. */
export function takeGuard(s: Int32Array, tag: number): Guarded {
  if (Atomics.compareExchange(s, H_GUARD, 0, tag) !== 0) takeGuardSlow(s, tag);
  return GUARDED;
}

function takeGuardSlow(s: Int32Array, tag: number): void {
  for (let i = 0; i < GUARD_SPINS; i++) {
    if (Atomics.load(s, H_GUARD) === 0 && Atomics.compareExchange(s, H_GUARD, 0, tag) === 0) return;
  }
  const park = canAtomicsWait();
  for (;;) {
    let current = Atomics.load(s, H_GUARD);
    if (current === 0) {
      // Taken as "contended": others may be parked behind us.
      if (Atomics.compareExchange(s, H_GUARD, 0, tag | 1) === 0) return;
      continue;
    }
    if ((current & 1) === 0) {
      if (Atomics.compareExchange(s, H_GUARD, current, current | 1) !== current) continue;
      current |= 1;
    }
    if (park) Atomics.wait(s, H_GUARD, current, 1);
  }
}

/** Lets the guard go, waking one thread parked on it. */
export function dropGuard(s: Int32Array, _guarded: Guarded): void {
  if ((Atomics.exchange(s, H_GUARD, 0) & 1) !== 0) Atomics.notify(s, H_GUARD, 1);
}

/**
 * Takes the guard for recovering thread `deadThread`, taking it over if that thread died holding it: a guard that
 * stays held by it for `GUARD_STEAL_MS` (a live holder keeps it for well under a microsecond) is taken from it.
 */
export function takeGuardFromDead(s: Int32Array, tag: number, deadThread: number): Guarded {
  const deadTag = guardTag(deadThread);
  let heldByDeadSince = -1;
  const park = canAtomicsWait();
  for (;;) {
    const current = Atomics.load(s, H_GUARD);
    if (current === 0) {
      if (Atomics.compareExchange(s, H_GUARD, 0, tag | 1) === 0) return GUARDED;
      continue;
    }
    if ((current & ~1) === deadTag) {
      const now = performance.now();
      if (heldByDeadSince < 0) heldByDeadSince = now;
      else if (now - heldByDeadSince >= GUARD_STEAL_MS) {
        if (Atomics.compareExchange(s, H_GUARD, current, tag | 1) === current) return GUARDED;
      }
    } else {
      heldByDeadSince = -1;
    }
    if (park) Atomics.wait(s, H_GUARD, current, 1);
  }
}
