/**
 * Types shared by every module.
 *
 * @module
 */

/**
 * Options of every call that can wait.
 *
 * @example Giving up after 500 ms, or when the user navigates away
 * ```ts
 * import { Semaphore } from 'weftjs/sync';
 *
 * const sem = new Semaphore(4);
 * const controller = new AbortController();
 * using permit = await sem.acquire(1, { signal: controller.signal, timeout: 500 });
 * ```
 */
export interface WaitOptions {
  /**
   * Aborting it rejects the wait with `signal.reason` (a `DOMException` named `AbortError` by default) and removes
   * the waiter at once. A signal that is already aborted rejects at once, even where the call could succeed.
   */
  signal?: AbortSignal | undefined;
  /**
   * Milliseconds to wait before rejecting with a `DOMException` named `TimeoutError`. `0` means "only if it can be
   * had now"; `Infinity` (or leaving it out) waits forever. Values above 2^31-1 ms (about 24.8 days) are capped there.
   */
  timeout?: number | undefined;
}

/**
 * A held permit (a semaphore's permits, a mutex's lock, a read or write lock). Release it exactly once; calling
 * `release()` again does nothing. Works with `using`, so the permit is released when the block ends.
 *
 * @example
 * ```ts
 * import { Mutex } from 'weftjs/sync';
 *
 * const mutex = new Mutex();
 * {
 *   using _lock = await mutex.lock();
 *   // critical section
 * } // released here, even if the block throws
 * ```
 */
export interface Permit {
  /** Gives the permit back. Idempotent: only the first call has an effect. */
  release(): void;
  /** Same as {@link Permit.release}, for `using` declarations. */
  [Symbol.dispose](): void;
}
