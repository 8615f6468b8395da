/**
 * The primitives of `weftjs/sync`, shared by many processes and hosts through a Redis server (7.0+) that you run:
 * {@link RedisMutex}, {@link RedisSemaphore}, {@link RedisRateLimiter}. Bring your own client, ioredis (>= 5) or
 * node-redis (>= 4); weft has no dependency of its own. Not re-exported from the root `weftjs`.
 *
 * {@link RedisChannel} is a work queue across hosts on a Redis Stream: at least once, nothing lost when a consumer dies.
 *
 * Waiters are served in arrival order at Redis and woken through Redis (no polling); grants are leased and renewed
 * while held, carry a fencing token, and come back at most one lease after their holder dies. Leases and windows
 * follow Redis's clock, never the clients'.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisMutex, RedisRateLimiter, RedisSemaphore } from 'weftjs/redis';
 *
 * const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const mutex = new RedisMutex(client, 'orders:42', { lease: 10_000 });
 * const payments = new RedisSemaphore(client, 'payment-api', 8);
 * const github = new RedisRateLimiter(client, 'github', { limit: 5_000, interval: 3_600_000 });
 * await mutex.run(async (lock) => console.log('fencing token', lock.token));
 * ```
 *
 * @module weftjs/redis
 */
export { LeaseLostError } from '../errors.js';
export type { WaitOptions } from '../types.js';
export type { IORedisLike, NodeRedisLike, RedisClient } from './client.js';
export type { RedisLockOptions } from './lease-queue.js';
export type { RedisPermit } from './permit.js';
export { RedisMutex } from './mutex.js';
export { RedisSemaphore, type RedisSemaphoreRunOptions } from './semaphore.js';
export {
  RedisRateLimiter,
  type RedisRateLimiterOptions,
  type RedisRateLimiterRunOptions,
} from './rate-limiter.js';
export { RedisChannel, type RedisChannelOptions, type RedisChannelProcessOptions } from './channel.js';
export type { RedisChannelCodec } from './channel-codec.js';
export type { RedisChannelContext, RedisChannelHandler } from './channel-consumer.js';
