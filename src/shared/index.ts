/**
 * weftjs/shared: a mutex and a semaphore that work across threads (Node worker threads, Web Workers), built on
 * `SharedArrayBuffer` and `Atomics`, with the same API and rules as `Mutex` and `Semaphore` from `weftjs/sync`.
 *
 * Create the lock on one thread, send its `handle` to the others (`postMessage`, `workerData`, pool task
 * arguments) and open it there with `from(handle)`. `lock()` / `acquire()` wait without blocking the event loop;
 * `lockSync()` / `acquireSync()` block, in workers only. Waiters are served in arrival order across all threads.
 * In browsers the page must be cross-origin isolated for `SharedArrayBuffer` to exist.
 *
 * @example
 * ```ts
 * import { Worker } from 'node:worker_threads';
 * import { SharedMutex } from 'weftjs/shared';
 *
 * const mutex = new SharedMutex();
 * new Worker(new URL('./worker.js', import.meta.url), { workerData: mutex.handle });
 * // in the worker: const mutex = SharedMutex.from(workerData); await mutex.run(() => ...);
 * ```
 *
 * @module weftjs/shared
 */
export { SharedMutex } from './shared-mutex.js';
export { SharedSemaphore } from './shared-semaphore.js';
export type { SharedHandle, SharedKind } from './handle.js';
export type { SharedLockOptions, SyncWaitOptions } from './options.js';
export { currentThreadId } from './environment.js';
export { ClosedError } from '../errors.js';
export type { Permit, WaitOptions } from '../types.js';
