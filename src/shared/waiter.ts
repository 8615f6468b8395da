/**
 * An async caller of `lock()` / `acquire()` waiting on this thread, and how it waits for its slot to change:
 * `Atomics.waitAsync` on the slot's state word, or polling with backoff where `Atomics.waitAsync` is missing.
 */
import { Waiter } from '../internal/waiter.js';
import type { Permit } from '../types.js';
import type { SharedCore } from './core.js';
import { holdAlive, releaseAlive } from './environment.js';
import { S_STATE, slotBase, WAITING } from './layout.js';

type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
type WaitAsync = (typeArray: Int32Array, index: number, value: number, timeout?: number) => WaitAsyncResult;

/** `Atomics.waitAsync`, read at call time so that the polling fallback can be exercised by removing it. */
export function waitAsyncFunction(): WaitAsync | undefined {
  const fn = (Atomics as { waitAsync?: unknown }).waitAsync;
  return typeof fn === 'function' ? (fn as WaitAsync) : undefined;
}

/** Polling fallback (no `Atomics.waitAsync`): first check after 1 ms, doubling up to 16 ms. */
export const POLL_FIRST_MS = 1;
export const POLL_MAX_MS = 16;

/** An async caller of `lock()` / `acquire()` on this thread. While it waits, it keeps Node's event loop alive. */
export class LocalWaiter extends Waiter<Permit> {
  /** Its slot in shared memory, or -1 while it waits in this thread's overflow queue for one. */
  slot = -1;
  /** The slot's generation when it was queued: a different one means recovery withdrew the wait. */
  gen = 0;
  done = false;
  /** Its permit, between a grant under the guard and its settling after. */
  permit: Permit | undefined = undefined;
  pollTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  pollDelay = POLL_FIRST_MS;
  /** Handed to the `Atomics.waitAsync` promise; one per waiter, since the promise only passes a string. */
  readonly wake = (): void => this.core.onWake(this);

  constructor(
    readonly core: SharedCore,
    readonly weight: number,
    private readonly where: string,
  ) {
    super();
    holdAlive();
  }

  get operation(): string {
    return this.where;
  }

  cancel(reason: unknown): void {
    this.core.withdraw(this, reason);
  }

  /** Waits on its slot's state word until it changes; then `core.onWake` decides. */
  arm(): void {
    const waitAsync = waitAsyncFunction();
    if (waitAsync !== undefined) {
      const result = waitAsync(this.core.s, slotBase(this.slot) + S_STATE, WAITING);
      if (result.async) void result.value.then(this.wake);
      else this.core.onWake(this);
    } else {
      this.pollTimer = setTimeout(pollWaiter, this.pollDelay, this);
      this.pollDelay = Math.min(this.pollDelay * 2, POLL_MAX_MS);
    }
  }

  resolve(permit: Permit): void {
    if (this.finish()) this.grant(permit);
  }

  reject(reason: unknown): void {
    if (this.finish()) this.fail(reason);
  }

  /** Ends the wait, once: false when it had ended already. */
  private finish(): boolean {
    if (this.done) return false;
    this.done = true;
    if (this.pollTimer !== undefined) clearTimeout(this.pollTimer);
    releaseAlive();
    return true;
  }
}

function pollWaiter(waiter: LocalWaiter): void {
  waiter.pollTimer = undefined;
  waiter.core.onWake(waiter);
}
