/**
 * The worker side of `weftjs/pool`: a worker file calls {@link expose} once with the functions the pool may call.
 *
 * @example
 * ```ts
 * // worker.ts
 * import { expose } from 'weftjs/worker';
 *
 * function fib(n: number): number {
 *   return n < 2 ? n : fib(n - 1) + fib(n - 2);
 * }
 *
 * expose({ fib });
 * ```
 *
 * @module weftjs/worker
 */
export { expose, type ExposedFunctions } from './expose.js';
export type { TaskContext } from './context.js';
export { transfer } from './transfer.js';
