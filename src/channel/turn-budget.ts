/**
 * Anti-starvation for channel hand-offs.
 *
 * Every channel operation that completes at once (a value was buffered or taken on the spot) returns an
 * already-settled promise, so a producer and a consumer awaiting each other can ping-pong on the microtask queue
 * forever and the event loop would never get to timers or I/O. To prevent that, immediate completions are counted,
 * and every {@link CHECK_EVERY} of them the clock is read:
 *
 * - the first check arms a sentinel macrotask (`setImmediate` on Node, a `MessageChannel` message in browsers,
 *   `setTimeout(0)` elsewhere) and starts a slice;
 * - when the sentinel runs, the event loop has had a turn: the slice ends and the count starts over;
 * - if a check finds the slice older than {@link SLICE_MS} while the sentinel is still waiting, the microtask queue
 *   has been running all that time, so from then on immediate completions are settled by the sentinel instead of
 *   at once. The operation itself has already taken effect (nothing is reordered, lost or duplicated); only the
 *   caller's continuation waits for one macrotask turn, in which timers and I/O are served.
 *
 * Hot loops therefore hand the event loop back about every {@link SLICE_MS} ms, at a cost of one macrotask per
 * slice, and programs that are not hot never see a deferral. The timer functions and the clock are captured when
 * this module loads, so test frameworks' fake timers installed later cannot freeze a channel.
 */

import { now, queueMacrotask } from '../internal/macrotask.js';
import { pendingPromise, resolved } from '../internal/promise.js';

/** Immediate completions between two clock reads. */
export const CHECK_EVERY = 64;

/** Longest stretch, in ms, that channel hand-offs keep the microtask queue busy before yielding a macrotask turn. */
export const SLICE_MS = 5;

type Settle = (value: unknown) => void;

let count = 0;
let armed = false;
let exhausted = false;
let sliceStart = 0;
let parkedSettles: Settle[] = [];
let parkedValues: unknown[] = [];

/** A promise for `value` that is settled now, or at the next macrotask turn when the slice is spent. */
export function settleNow<T>(value: T): Promise<T> {
  if (++count < CHECK_EVERY || !sliceSpent()) return Promise.resolve(value);
  return park(value);
}

/** {@link settleNow} for `void`: a shared resolved promise on the fast path. */
export function settleVoidNow(): Promise<void> {
  if (++count < CHECK_EVERY || !sliceSpent()) return resolved();
  return park(undefined);
}

function sliceSpent(): boolean {
  if (exhausted) return true;
  count = 0;
  if (!armed) {
    armed = true;
    sliceStart = now();
    queueMacrotask(onTurn);
    return false;
  }
  if (now() - sliceStart < SLICE_MS) return false;
  exhausted = true;
  return true;
}

function park<T>(value: T): Promise<T> {
  const { promise, resolve } = pendingPromise<T>();
  parkedSettles.push(resolve as Settle);
  parkedValues.push(value);
  return promise;
}

function onTurn(): void {
  armed = false;
  exhausted = false;
  count = 0;
  if (parkedSettles.length === 0) return;
  const settles = parkedSettles;
  const values = parkedValues;
  parkedSettles = [];
  parkedValues = [];
  for (let i = 0; i < settles.length; i++) settles[i]!(values[i]);
}
