/** Option types and checks shared by `SharedMutex` and `SharedSemaphore`. */
import { waitOptionsError } from '../internal/waiter.js';
import { invalid, positiveIntegerError } from '../internal/validate.js';
import { blockingAllowed } from './environment.js';
import { DEFAULT_SLOTS, MAX_SLOTS } from './handle.js';

/**
 * Options of `new SharedMutex()` and `new SharedSemaphore()`.
 *
 * @example A lock that many threads queue on at once
 * ```ts
 * import { SharedMutex } from 'weftjs/shared';
 *
 * const mutex = new SharedMutex({ slots: 1024 });
 * ```
 */
export interface SharedLockOptions {
  /**
   * How many waiters and holding threads the lock tracks in shared memory at once, across all threads (default 128;
   * each slot costs 32 bytes of the buffer). Waiters are served in arrival order across threads while slots last;
   * beyond that, further waiters wait in their own thread, in order, for a slot to free up.
   */
  slots?: number | undefined;
}

/**
 * Options of the blocking forms, `lockSync` and `acquireSync`.
 *
 * @example Blocking for at most 50 ms, in a worker
 * ```ts
 * import { SharedMutex, type SharedHandle } from 'weftjs/shared';
 *
 * declare const handle: SharedHandle;
 * const mutex = SharedMutex.from(handle);
 * using _lock = mutex.lockSync({ timeout: 50 });
 * ```
 */
export interface SyncWaitOptions {
  /**
   * Milliseconds to block before throwing a `DOMException` named `TimeoutError`. `0` means "only if it can be had
   * now"; `Infinity` (or leaving it out) blocks until it is had. There is no `signal`: nothing can run on a blocked
   * thread to abort it.
   */
  timeout?: number | undefined;
}

/** The slot count of `options`, checked. */
export function slotsOption(where: string, options: SharedLockOptions | undefined): number {
  if (options === undefined) return DEFAULT_SLOTS;
  if (typeof options !== 'object' || options === null) {
    throw invalid(where, 'options must be an object', options);
  }
  const { slots } = options;
  if (slots === undefined) return DEFAULT_SLOTS;
  const error = positiveIntegerError(where, 'slots', slots);
  if (error !== undefined) throw error;
  if (slots > MAX_SLOTS) throw invalid(where, `slots must be at most ${MAX_SLOTS}`, slots, true);
  return slots;
}

/** The error for a weight that is not a positive integer, if any. */
export function weightError(where: string, weight: unknown): TypeError | RangeError | undefined {
  return positiveIntegerError(where, 'weight', weight);
}

/** The error for a weight above the capacity, if it is (same message as `Semaphore`). */
export function capacityError(where: string, weight: number, capacity: number): RangeError | undefined {
  return weight > capacity
    ? new RangeError(`${where}: weight must be at most the capacity (${capacity}), got ${weight}`)
    : undefined;
}

/** Checks the options of a blocking wait and that this thread may block; returns the timeout. Throws. */
export function syncTimeout(where: string, options: SyncWaitOptions | undefined): number | undefined {
  if (
    typeof options === 'object' &&
    options !== null &&
    (options as { signal?: unknown }).signal !== undefined
  ) {
    throw new TypeError(
      `${where}: a signal cannot abort a blocked thread; use the async form with a signal, or pass a timeout`,
    );
  }
  const error = waitOptionsError(where, options);
  // eslint-disable-next-line @typescript-eslint/only-throw-error -- a TypeError/RangeError built by waitOptionsError
  if (error !== undefined) throw error;
  if (!blockingAllowed()) {
    throw new TypeError(
      `${where}: blocking waits are not allowed on the main thread (it would freeze its event loop); ` +
        'use the async form there, or call this from a worker',
    );
  }
  return options?.timeout;
}
