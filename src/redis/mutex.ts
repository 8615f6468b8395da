import type { WaitOptions } from '../types.js';
import type { RedisClient } from './client.js';
import { leaseQueue, runHolding, type LeaseQueue, type RedisLockOptions } from './lease-queue.js';
import type { RedisPermit } from './permit.js';

const NAMES = {
  owner: 'RedisMutex',
  acquire: 'RedisMutex.lock',
  tryAcquire: 'RedisMutex.tryLock',
  run: 'RedisMutex.run',
} as const;

/**
 * A mutual-exclusion lock shared by every process that uses the same Redis key: "one at a time per order id,
 * across the fleet". Waiters are served in arrival order at Redis and woken through Redis (no polling); the lock is
 * leased and renewed while held, and each grant carries a fencing `token` that only grows.
 *
 * @example One worker at a time per order
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisMutex } from 'weftjs/redis';
 *
 * declare const db: { update(id: string, fields: object): Promise<void> };
 * const client = new Redis(process.env.REDIS_URL ?? '');
 * const mutex = new RedisMutex(client, 'orders:42', { lease: 10_000 });
 * {
 *   await using lock = await mutex.lock({ timeout: 5_000 });
 *   await db.update('42', { status: 'shipped', fencingToken: lock.token });
 * }
 * ```
 */
export class RedisMutex {
  readonly #queue: LeaseQueue;

  /**
   * @param client - An ioredis or node-redis client; weft opens its extra connection with `duplicate()`.
   * @param key - The lock's name in Redis, a non-empty string.
   * @param opts - `lease` (ms, default 30 s) and key `prefix` (default `'weft:'`).
   * @throws `TypeError` for a client that is neither ioredis nor node-redis, a bad key or option; `RangeError` for
   *   a lease out of range.
   *
   * @example
   * ```ts
   * import Redis from 'ioredis';
   * import { RedisMutex } from 'weftjs/redis';
   *
   * const migrations = new RedisMutex(new Redis(), 'migrations', { lease: 60_000, prefix: 'app:' });
   * ```
   */
  constructor(client: RedisClient, key: string, opts?: RedisLockOptions) {
    this.#queue = leaseQueue(NAMES, client, key, 1, opts);
  }

  /**
   * Waits for the lock, in arrival order across every process. Uncontended, this is one round trip to Redis.
   *
   * @param opts - `signal` to abort the wait (rejects with `signal.reason`), `timeout` in ms (rejects with a
   *   `DOMException` named `TimeoutError`; `0` means "only if free now").
   * @returns The held lock ({@link RedisPermit}); release it once, by hand or with `await using`.
   *
   * @example
   * ```ts
   * import Redis from 'ioredis';
   * import { RedisMutex } from 'weftjs/redis';
   *
   * const mutex = new RedisMutex(new Redis(), 'cache-rebuild');
   * const lock = await mutex.lock({ timeout: 2_000 });
   * try {
   *   // rebuild the cache; stop if lock.signal aborts
   * } finally {
   *   await lock.release();
   * }
   * ```
   */
  lock(opts?: WaitOptions): Promise<RedisPermit> {
    return this.#queue.acquire(1, opts);
  }

  /**
   * Takes the lock if it is free and nobody is waiting. One round trip.
   *
   * @returns The held lock, or `undefined` if it is taken. Rejects with an error whose `cause` is the client's
   *   error when Redis cannot be reached.
   *
   * @example
   * ```ts
   * import Redis from 'ioredis';
   * import { RedisMutex } from 'weftjs/redis';
   *
   * const cron = new RedisMutex(new Redis(), 'cron:hourly');
   * const lock = await cron.tryLock();
   * if (lock === undefined) console.log('another instance runs this hour');
   * else await lock.release();
   * ```
   */
  async tryLock(): Promise<RedisPermit | undefined> {
    return (await this.#queue.tryAcquire(1)) ?? undefined;
  }

  /**
   * Runs `fn` holding the lock and settles with its result; the lock is released whatever `fn` does.
   *
   * @param fn - The critical section, given the permit (its `token` and `signal`).
   * @param opts - `signal` / `timeout` for the wait before `fn` starts.
   * @returns `fn`'s result, or its error; rejects as {@link RedisMutex.lock} does while waiting.
   *
   * @example
   * ```ts
   * import Redis from 'ioredis';
   * import { RedisMutex } from 'weftjs/redis';
   *
   * declare function refreshToken(signal: AbortSignal): Promise<string>;
   * const mutex = new RedisMutex(new Redis(), 'oauth-refresh', { lease: 5_000 });
   * const token = await mutex.run((lock) => refreshToken(lock.signal), { timeout: 10_000 });
   * ```
   */
  run<T>(fn: (permit: RedisPermit) => T | PromiseLike<T>, opts?: WaitOptions): Promise<T> {
    return runHolding(this.#queue, 1, fn, opts);
  }
}
