/* eslint-disable @typescript-eslint/no-explicit-any -- function shapes are matched with `any` on purpose */
import type { TaskStream } from './stream.js';

/**
 * The typed face of a worker module, as `WorkerPool.api()` returns it: every exported function becomes a method
 * taking the same arguments; plain and async functions return a `Promise` of their (awaited) result, generator and
 * async generator functions return a {@link TaskStream} of their values. Exports that are not functions are
 * left out. `this: TaskContext` parameters are dropped: the pool supplies the context.
 *
 * @typeParam M - The worker module's type, `typeof import('./worker.js')`, or the type of the object given to
 *   `expose()`.
 *
 * @example
 * ```ts
 * import { WorkerPool, type WorkerApi } from 'weftjs/pool';
 *
 * // The shape of the worker module; in an application: `typeof import('./worker.js')`.
 * interface Fns {
 *   fib(n: number): number;
 *   primes(limit: number): AsyncGenerator<number>;
 *   version: string;
 * }
 *
 * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
 * const api: WorkerApi<Fns> = pool.api<Fns>();
 * const n: number = await api.fib(30);
 * for await (const p of api.primes(100)) console.log(p);
 * ```
 */
export type WorkerApi<M> = {
  readonly [
    K in keyof M as K extends string ? (M[K] extends (...args: any[]) => any ? K : never) : never
  ]: M[K] extends (...args: infer A) => infer R
    ? R extends AsyncGenerator<infer Y, any, any> | Generator<infer Y, any, any>
      ? (...args: A) => TaskStream<Y>
      : (...args: A) => Promise<Awaited<R>>
    : never;
};
