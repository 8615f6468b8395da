import { assertPositiveInteger } from '../internal/validate.js';
import type { Permit, WaitOptions } from '../types.js';
import { SharedCore } from './core.js';
import { createState, type SharedHandle } from './handle.js';
import {
  capacityError,
  slotsOption,
  weightError,
  type SharedLockOptions,
  type SyncWaitOptions,
} from './options.js';
import * as common from './shared-lock.js';

/**
 * A counting semaphore shared by threads: `capacity` permits, taken in any weight and given back through the
 * {@link Permit} returned, in strict FIFO order across every thread that uses it. The state lives in a
 * `SharedArrayBuffer`; send {@link SharedSemaphore.handle} to a worker (`postMessage`, `workerData`, pool task
 * arguments) and call {@link SharedSemaphore.from} there to get the same semaphore.
 *
 * Same rules as `Semaphore` from `weftjs/sync`: weights are positive integers, a weight above the capacity is a
 * `RangeError`, a heavy waiter at the head is served before lighter ones behind it, `tryAcquire` never jumps the
 * queue, and an aborted or timed-out waiter leaves the queue at once. `acquire` never blocks the event loop;
 * `acquireSync` blocks, and only where blocking is allowed (worker threads).
 *
 * Fairness: waiters are served in the order they joined the queue, across all threads. A thread that exits while
 * holding permits gives them back automatically when it exits on its own; for a thread that was killed
 * (`worker.terminate()`), call {@link SharedSemaphore.releaseThread} with its id.
 *
 * @example Creating the semaphore and starting workers (main.ts)
 * ```ts
 * import { Worker } from 'node:worker_threads';
 * import { SharedSemaphore } from 'weftjs/shared';
 *
 * const connections = new SharedSemaphore(4);
 * for (let i = 0; i < 8; i++) {
 *   new Worker(new URL('./worker.js', import.meta.url), { workerData: connections.handle });
 * }
 * ```
 *
 * @example At most 4 threads in the section at once, in each worker (worker.ts)
 * ```ts
 * import { workerData } from 'node:worker_threads';
 * import { SharedSemaphore } from 'weftjs/shared';
 *
 * const connections = SharedSemaphore.from(workerData);
 * await connections.run(async () => {
 *   // at most 4 threads are here at any moment
 * });
 * ```
 */
export class SharedSemaphore {
  readonly #core: SharedCore;
  readonly #handle: SharedHandle;

  /**
   * Creates a semaphore in new shared memory.
   *
   * @param permits - Total permits, a positive integer.
   * @param options - `slots`: waiters and holding threads tracked at once (default 128).
   * @throws `TypeError` / `RangeError` when `permits` is not a positive integer or an option is invalid; `Error`
   *   where `SharedArrayBuffer` is unavailable (a browser page that is not cross-origin isolated).
   *
   * @example
   * ```ts
   * import { SharedSemaphore } from 'weftjs/shared';
   *
   * const sem = new SharedSemaphore(3);
   * console.log(sem.capacity, sem.available); // 3 3
   * ```
   */
  constructor(permits: number, options?: SharedLockOptions) {
    let handle = common.attachedHandle();
    if (handle === undefined) {
      assertPositiveInteger('SharedSemaphore', 'permits', permits);
      handle = createState('SharedSemaphore', permits, slotsOption('SharedSemaphore', options));
    }
    this.#handle = handle;
    this.#core = SharedCore.of(handle.buffer);
  }

  /**
   * The semaphore whose {@link SharedSemaphore.handle} is `handle`, usually on another thread. Every semaphore
   * returned for the same handle shares the same permits and queue.
   *
   * @param handle - A semaphore's `handle`, as received through `postMessage`, `workerData` or task arguments.
   * @throws `TypeError` when `handle` is not the handle of a `SharedSemaphore` (naming what it got).
   *
   * @example
   * ```ts
   * import { parentPort } from 'node:worker_threads';
   * import { SharedSemaphore, type SharedHandle } from 'weftjs/shared';
   *
   * parentPort!.once('message', async (handle: SharedHandle) => {
   *   const sem = SharedSemaphore.from(handle);
   *   using _permit = await sem.acquire();
   * });
   * ```
   */
  static from(handle: SharedHandle): SharedSemaphore {
    return common.openFrom('SharedSemaphore', handle, () => new SharedSemaphore(0));
  }

  /**
   * A structured-cloneable description of this semaphore's memory: pass it to another thread and open it there
   * with {@link SharedSemaphore.from}.
   *
   * @example
   * ```ts
   * import { Worker } from 'node:worker_threads';
   * import { SharedSemaphore } from 'weftjs/shared';
   *
   * const sem = new SharedSemaphore(2);
   * const worker = new Worker(new URL('./worker.js', import.meta.url));
   * worker.postMessage(sem.handle);
   * ```
   */
  get handle(): SharedHandle {
    return this.#handle;
  }

  /**
   * Total permits, fixed at creation.
   *
   * @example
   * ```ts
   * import { SharedSemaphore } from 'weftjs/shared';
   *
   * console.log(new SharedSemaphore(5).capacity); // 5
   * ```
   */
  get capacity(): number {
    return this.#core.capacity;
  }

  /**
   * Permits free right now, across all threads (a snapshot: other threads may change it at any moment).
   *
   * @example
   * ```ts
   * import { SharedSemaphore } from 'weftjs/shared';
   *
   * const sem = new SharedSemaphore(5);
   * using _permit = await sem.acquire(2);
   * console.log(sem.available); // 3
   * ```
   */
  get available(): number {
    return this.#core.available;
  }

  /**
   * Waiters queued right now, across all threads (a snapshot).
   *
   * @example
   * ```ts
   * import { SharedSemaphore } from 'weftjs/shared';
   *
   * const sem = new SharedSemaphore(1);
   * using _permit = await sem.acquire();
   * const next = sem.acquire();
   * console.log(sem.pending); // 1
   * ```
   */
  get pending(): number {
    return this.#core.pending;
  }

  /**
   * Whether {@link SharedSemaphore.close} has been called, on any thread.
   *
   * @example
   * ```ts
   * import { SharedSemaphore } from 'weftjs/shared';
   *
   * const sem = new SharedSemaphore(1);
   * sem.close();
   * console.log(sem.closed); // true
   * ```
   */
  get closed(): boolean {
    return this.#core.closed;
  }

  /**
   * Takes `weight` permits, waiting in FIFO order (across threads) until they are free. Never blocks the event loop;
   * while it waits, it keeps Node's event loop alive.
   *
   * @param weight - Permits to take, a positive integer no larger than `capacity` (default 1).
   * @param opts - `signal` to abort the wait (rejects with `signal.reason`), `timeout` in ms (rejects with a
   *   `DOMException` named `TimeoutError`). Either way the waiter leaves the queue at once.
   * @returns A permit; release it exactly once (`using` does it for you).
   *
   * @example
   * ```ts
   * import { SharedSemaphore } from 'weftjs/shared';
   *
   * const sem = new SharedSemaphore(4);
   * using _permit = await sem.acquire(2, { timeout: 1_000 });
   * // two of the four permits are ours until the block ends
   * ```
   */
  acquire(weight: number = 1, opts?: WaitOptions): Promise<Permit> {
    return common.acquireChecked(this.#core, weight, opts, 'SharedSemaphore.acquire');
  }

  /**
   * Takes `weight` permits, blocking this thread until they are free. Allowed only where blocking is (worker
   * threads); on Node's main thread and in browser windows it throws. It also throws while this thread has
   * `acquire()` calls queued on this semaphore: they could be granted permits that nothing would release while the
   * thread is blocked.
   *
   * @param weight - Permits to take, a positive integer no larger than `capacity` (default 1).
   * @param opts - `timeout` in ms: past it, throws a `DOMException` named `TimeoutError`.
   * @throws `TypeError` on the main thread or for invalid arguments, `RangeError` for a weight above the capacity,
   *   `Error` while this thread has `acquire()` calls queued here, the close reason once closed.
   *
   * @example In a worker
   * ```ts
   * import { workerData } from 'node:worker_threads';
   * import { SharedSemaphore } from 'weftjs/shared';
   *
   * const sem = SharedSemaphore.from(workerData);
   * using _permit = sem.acquireSync(1, { timeout: 100 });
   * ```
   */
  acquireSync(weight: number = 1, opts?: SyncWaitOptions): Permit {
    return common.acquireBlocking(this.#core, weight, opts, 'SharedSemaphore.acquireSync');
  }

  /**
   * Takes `weight` permits if they are free now and nobody is queued (it never jumps the queue).
   *
   * @param weight - Permits to take, a positive integer no larger than `capacity` (default 1).
   * @returns A permit, or `undefined` when it would have to wait.
   * @throws `TypeError` / `RangeError` for an invalid weight or one above the capacity.
   *
   * @example
   * ```ts
   * import { SharedSemaphore } from 'weftjs/shared';
   *
   * const sem = new SharedSemaphore(1);
   * const permit = sem.tryAcquire();
   * if (permit) {
   *   try {
   *     // ...
   *   } finally {
   *     permit.release();
   *   }
   * }
   * ```
   */
  tryAcquire(weight: number = 1): Permit | undefined {
    const where = 'SharedSemaphore.tryAcquire';
    const error = weightError(where, weight) ?? capacityError(where, weight, this.#core.capacity);
    if (error !== undefined) throw error;
    return this.#core.tryAcquire(weight);
  }

  /**
   * Runs `fn` holding `weight` permits (from `opts.weight`, default 1) and releases them when it settles, even when
   * it throws or rejects.
   *
   * @param fn - The work to do under the semaphore.
   * @param opts - `weight`, plus `signal` and `timeout` for the wait (not for `fn`).
   * @returns What `fn` returns.
   *
   * @example
   * ```ts
   * import { SharedSemaphore } from 'weftjs/shared';
   *
   * const sem = new SharedSemaphore(2);
   * const body = await sem.run(() => fetch('https://example.com').then((r) => r.text()), { timeout: 5_000 });
   * ```
   */
  run<T>(fn: () => T | PromiseLike<T>, opts?: WaitOptions & { weight?: number | undefined }): Promise<T> {
    const weight = typeof opts === 'object' && opts !== null ? opts.weight : undefined;
    return common.runHolding(this.#core, weight ?? 1, opts, 'SharedSemaphore.run', fn);
  }

  /**
   * Closes the semaphore for every thread: queued waiters reject (on this thread with `reason` when given, elsewhere
   * and by default with a `ClosedError`), and so do later acquires; `tryAcquire` returns `undefined`. Permits already
   * held stay valid and can be released. Idempotent: only the first call, on any thread, has an effect.
   *
   * @param reason - What this thread's waiters reject with.
   *
   * @example
   * ```ts
   * import { SharedSemaphore } from 'weftjs/shared';
   *
   * const sem = new SharedSemaphore(1);
   * sem.close();
   * await sem.acquire().catch((error: unknown) => console.log(error)); // ClosedError
   * ```
   */
  close(reason?: unknown): void {
    this.#core.close(reason);
  }

  /**
   * Gives back every permit thread `threadId` holds and withdraws its queued waiters: the recovery for a thread
   * that died without releasing (a worker stopped with `worker.terminate()` or killed by running out of memory).
   * A thread that exits on its own (its code ends, `process.exit()`, an uncaught exception) needs no help: it gives
   * everything back as it exits.
   *
   * Only call it for a thread that is gone: a live thread's permits would be freed under it (its later releases do
   * nothing, its pending waits reject).
   *
   * @param threadId - The dead thread's id: `worker.threadId` in Node (read it while the worker runs; it reads -1
   *   after exit), `currentThreadId()` reported by the thread in browsers.
   * @returns The number of permits freed.
   *
   * @example Recovering after terminating a worker
   * ```ts
   * import { Worker } from 'node:worker_threads';
   * import { SharedSemaphore } from 'weftjs/shared';
   *
   * const sem = new SharedSemaphore(2);
   * const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: sem.handle });
   * const id = worker.threadId;
   * worker.once('exit', () => sem.releaseThread(id));
   * ```
   */
  releaseThread(threadId: number): number {
    return common.releaseThreadChecked(this.#core, threadId);
  }
}
