import type { Permit, WaitOptions } from '../types.js';
import { SharedCore } from './core.js';
import { createState, type SharedHandle } from './handle.js';
import { slotsOption, type SharedLockOptions, type SyncWaitOptions } from './options.js';
import * as common from './shared-lock.js';

/**
 * A mutual-exclusion lock shared by threads, granted in FIFO order across every thread that uses it. The state
 * lives in a `SharedArrayBuffer`; send {@link SharedMutex.handle} to a worker (`postMessage`, `workerData`, pool
 * task arguments) and call {@link SharedMutex.from} there to get the same lock.
 *
 * Same rules as `Mutex` from `weftjs/sync`: `lock` resolves to a {@link Permit} released exactly once, `tryLock` never
 * jumps the queue, and an aborted or timed-out waiter leaves the queue at once. `lock` never blocks the event loop;
 * `lockSync` blocks, and only where blocking is allowed (worker threads).
 *
 * Fairness: waiters are served in the order they joined the queue, across all threads, so no thread starves. A
 * thread that exits while holding the lock releases it automatically when it exits on its own; for a thread that
 * was killed (`worker.terminate()`), call {@link SharedMutex.releaseThread} with its id, or
 * {@link SharedMutex.forceRelease}.
 *
 * @example Creating the lock and a shared counter, and starting workers (main.ts)
 * ```ts
 * import { Worker } from 'node:worker_threads';
 * import { SharedMutex } from 'weftjs/shared';
 *
 * const mutex = new SharedMutex();
 * const counter = new Int32Array(new SharedArrayBuffer(4));
 * for (let i = 0; i < 4; i++) {
 *   new Worker(new URL('./worker.js', import.meta.url), { workerData: { lock: mutex.handle, counter } });
 * }
 * ```
 *
 * @example Updating the counter under the lock, in each worker (worker.ts)
 * ```ts
 * import { workerData } from 'node:worker_threads';
 * import { SharedMutex } from 'weftjs/shared';
 *
 * const mutex = SharedMutex.from(workerData.lock);
 * const counter: Int32Array = workerData.counter;
 * await mutex.run(() => {
 *   counter[0] = counter[0]! + 1; // read-modify-write, safe under the lock
 * });
 * ```
 */
export class SharedMutex {
  readonly #core: SharedCore;
  readonly #handle: SharedHandle;

  /**
   * Creates an unlocked mutex in new shared memory.
   *
   * @param options - `slots`: waiters and holding threads tracked at once (default 128).
   * @throws `TypeError` / `RangeError` for an invalid option; `Error` where `SharedArrayBuffer` is unavailable (a
   *   browser page that is not cross-origin isolated).
   *
   * @example
   * ```ts
   * import { SharedMutex } from 'weftjs/shared';
   *
   * const mutex = new SharedMutex();
   * console.log(mutex.locked); // false
   * ```
   */
  constructor(options?: SharedLockOptions) {
    const handle =
      common.attachedHandle() ?? createState('SharedMutex', 1, slotsOption('SharedMutex', options));
    this.#handle = handle;
    this.#core = SharedCore.of(handle.buffer);
  }

  /**
   * The mutex whose {@link SharedMutex.handle} is `handle`, usually on another thread. Every mutex returned for the
   * same handle is the same lock.
   *
   * @param handle - A mutex's `handle`, as received through `postMessage`, `workerData` or task arguments.
   * @throws `TypeError` when `handle` is not the handle of a `SharedMutex` (naming what it got).
   *
   * @example
   * ```ts
   * import { workerData } from 'node:worker_threads';
   * import { SharedMutex } from 'weftjs/shared';
   *
   * const mutex = SharedMutex.from(workerData.lock);
   * ```
   */
  static from(handle: SharedHandle): SharedMutex {
    return common.openFrom('SharedMutex', handle, () => new SharedMutex());
  }

  /**
   * A structured-cloneable description of this mutex's memory: pass it to another thread and open it there with
   * {@link SharedMutex.from}.
   *
   * @example
   * ```ts
   * import { Worker } from 'node:worker_threads';
   * import { SharedMutex } from 'weftjs/shared';
   *
   * const mutex = new SharedMutex();
   * new Worker(new URL('./worker.js', import.meta.url), { workerData: { lock: mutex.handle } });
   * ```
   */
  get handle(): SharedHandle {
    return this.#handle;
  }

  /**
   * Whether some thread holds the lock right now (a snapshot).
   *
   * @example
   * ```ts
   * import { SharedMutex } from 'weftjs/shared';
   *
   * const mutex = new SharedMutex();
   * using _lock = await mutex.lock();
   * console.log(mutex.locked); // true
   * ```
   */
  get locked(): boolean {
    return this.#core.available === 0;
  }

  /**
   * Waiters queued right now, across all threads (a snapshot).
   *
   * @example
   * ```ts
   * import { SharedMutex } from 'weftjs/shared';
   *
   * const mutex = new SharedMutex();
   * using _lock = await mutex.lock();
   * const next = mutex.lock();
   * console.log(mutex.pending); // 1
   * ```
   */
  get pending(): number {
    return this.#core.pending;
  }

  /**
   * The id of the thread holding the lock (see `currentThreadId`), or `undefined` when it is free.
   *
   * @example
   * ```ts
   * import { currentThreadId, SharedMutex } from 'weftjs/shared';
   *
   * const mutex = new SharedMutex();
   * using _lock = await mutex.lock();
   * console.log(mutex.owner === currentThreadId()); // true
   * ```
   */
  get owner(): number | undefined {
    return this.#core.holder();
  }

  /**
   * Waits for the lock in FIFO order (across threads). Never blocks the event loop; while it waits, it keeps
   * Node's event loop alive.
   *
   * @param opts - `signal` to abort the wait (rejects with `signal.reason`), `timeout` in ms (rejects with a
   *   `DOMException` named `TimeoutError`). Either way the waiter leaves the queue at once.
   * @returns The lock, as a permit to release exactly once (`using` does it for you).
   *
   * @example
   * ```ts
   * import { SharedMutex } from 'weftjs/shared';
   *
   * const mutex = new SharedMutex();
   * {
   *   using _lock = await mutex.lock({ timeout: 1_000 });
   *   // critical section
   * }
   * ```
   */
  lock(opts?: WaitOptions): Promise<Permit> {
    return common.acquireChecked(this.#core, 1, opts, 'SharedMutex.lock');
  }

  /**
   * Takes the lock, blocking this thread until it is free. Allowed only where blocking is (worker threads); on
   * Node's main thread and in browser windows it throws. It also throws, instead of deadlocking, when this thread
   * already holds the lock or has `lock()` calls queued for it.
   *
   * @param opts - `timeout` in ms: past it, throws a `DOMException` named `TimeoutError`.
   * @returns The lock, as a permit to release exactly once.
   * @throws `TypeError` on the main thread or for invalid options; `Error` when waiting would deadlock.
   *
   * @example In a worker
   * ```ts
   * import { workerData } from 'node:worker_threads';
   * import { SharedMutex } from 'weftjs/shared';
   *
   * const mutex = SharedMutex.from(workerData.lock);
   * const counter: Int32Array = workerData.counter;
   * for (let i = 0; i < 1_000; i++) {
   *   using _lock = mutex.lockSync();
   *   counter[0] = counter[0]! + 1;
   * }
   * ```
   */
  lockSync(opts?: SyncWaitOptions): Permit {
    return common.acquireBlocking(this.#core, 1, opts, 'SharedMutex.lockSync');
  }

  /**
   * Takes the lock if it is free and nobody is queued (it never jumps the queue).
   *
   * @returns The lock, or `undefined` when it would have to wait.
   *
   * @example
   * ```ts
   * import { SharedMutex } from 'weftjs/shared';
   *
   * const mutex = new SharedMutex();
   * const lock = mutex.tryLock();
   * if (lock) {
   *   try {
   *     // ...
   *   } finally {
   *     lock.release();
   *   }
   * }
   * ```
   */
  tryLock(): Permit | undefined {
    return this.#core.tryAcquire(1);
  }

  /**
   * Runs `fn` holding the lock and releases it when `fn` settles, even when it throws or rejects.
   *
   * @param fn - The critical section.
   * @param opts - `signal` and `timeout` for the wait (not for `fn`).
   * @returns What `fn` returns.
   *
   * @example
   * ```ts
   * import { SharedMutex } from 'weftjs/shared';
   *
   * const mutex = new SharedMutex();
   * const counter = new Int32Array(new SharedArrayBuffer(4));
   * await mutex.run(() => {
   *   counter[0] = counter[0]! + 1;
   * });
   * ```
   */
  run<T>(fn: () => T | PromiseLike<T>, opts?: WaitOptions): Promise<T> {
    return common.runHolding(this.#core, 1, opts, 'SharedMutex.run', fn);
  }

  /**
   * Releases the lock whoever holds it, and withdraws the holder's queued waiters: the recovery for a holder thread
   * that died without releasing (see {@link SharedMutex.releaseThread}). Only for a holder that is gone.
   *
   * @returns Whether the lock was held.
   *
   * @example After a worker that may have held the lock was terminated
   * ```ts
   * import { SharedMutex } from 'weftjs/shared';
   *
   * declare const mutex: SharedMutex;
   * declare const worker: import('node:worker_threads').Worker;
   * await worker.terminate();
   * mutex.forceRelease();
   * ```
   */
  forceRelease(): boolean {
    const owner = this.#core.holder();
    if (owner === undefined) return false;
    this.#core.releaseThread(owner);
    return true;
  }

  /**
   * Releases the lock if thread `threadId` holds it and withdraws that thread's queued waiters: the recovery for a
   * thread that died without releasing (a worker stopped with `worker.terminate()` or killed by running out of
   * memory). A thread that exits on its own (its code ends, `process.exit()`, an uncaught exception) needs no help:
   * it releases everything as it exits.
   *
   * Only call it for a thread that is gone: a live thread's lock would be freed under it.
   *
   * @param threadId - The dead thread's id: `worker.threadId` in Node (read it while the worker runs; it reads -1
   *   after exit), `currentThreadId()` reported by the thread in browsers.
   * @returns Whether that thread held the lock.
   *
   * @example Recovering after terminating a worker
   * ```ts
   * import { Worker } from 'node:worker_threads';
   * import { SharedMutex } from 'weftjs/shared';
   *
   * const mutex = new SharedMutex();
   * const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: { lock: mutex.handle } });
   * const id = worker.threadId;
   * worker.once('exit', () => mutex.releaseThread(id));
   * ```
   */
  releaseThread(threadId: number): boolean {
    return common.releaseThreadChecked(this.#core, threadId) > 0;
  }
}
