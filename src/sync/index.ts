/**
 * Coordination of async tasks on one thread: {@link Semaphore}, {@link Mutex}, {@link RWLock}, {@link Event},
 * {@link Barrier}, {@link RateLimiter}, and the p-limit compatible {@link limit} / {@link limitFunction}.
 *
 * Every wait takes `{ signal, timeout }` and is served in arrival order; every lock or permit is a
 * {@link Permit} that releases exactly once and works with `using`. Browser-safe: no Node.js modules.
 *
 * @example
 * ```ts
 * import { Mutex, Semaphore, limit } from 'weftjs/sync';
 *
 * const sem = new Semaphore(4);
 * const mutex = new Mutex();
 * const lim = limit(2);
 * using _permit = await sem.acquire();
 * await mutex.run(async () => {});
 * await lim(async () => {});
 * ```
 *
 * @module weftjs/sync
 */
export { ClosedError } from '../errors.js';
export type { Permit, WaitOptions } from '../types.js';
export { Semaphore, type SemaphoreRunOptions } from './semaphore.js';
export { Mutex } from './mutex.js';
export { RWLock } from './rwlock.js';
export { Event } from './event.js';
export { Barrier } from './barrier.js';
export { RateLimiter, type RateLimiterOptions, type RateLimiterRunOptions } from './rate-limiter.js';
export {
  limit,
  limitFunction,
  type LimitFunction,
  type LimitOptions,
  type LimitedFunction,
} from './limit.js';
