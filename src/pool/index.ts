/**
 * Parallelism on worker threads: {@link WorkerPool} runs functions exposed by a worker file (see `weftjs/worker`) on
 * a pool of threads (or, with `runtime: 'process'`, of Node.js child processes), with batching, cancellation, crash
 * recovery and typed calls.
 *
 * The same API runs under Node.js (`worker_threads`) and in browsers (module Web Workers); the module imports no
 * Node built-in and picks the platform when a pool is created. A browser page needs no special headers; when it is
 * cross-origin isolated (COOP/COEP), the pool shares its task table with the workers and pipelines small tasks,
 * otherwise it sends each worker one task at a time.
 *
 * @example
 * ```ts
 * import { WorkerPool } from 'weftjs/pool';
 *
 * await using pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
 * console.log(await pool.run<number>('fib', [30]));
 * ```
 *
 * @module weftjs/pool
 */
export { WorkerPool, type PoolCloseOptions, type PoolRunOptions } from './pool.js';
export type { WorkerPoolOptions } from './options.js';
export type { PoolStats, TimeStats } from './stats.js';
export type { WorkerApi } from './api.js';
export type { TaskStream } from './stream.js';
export type { ResourceLimits } from './transport.js';
export { PoolClosedError, QueueFullError, WorkerCrashedError } from '../errors.js';
