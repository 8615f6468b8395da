import { assertPositiveInteger, invalid } from '../internal/validate.js';
import type { WaitOptions } from '../types.js';
import { connectionOf, type RedisClient } from './client.js';
import { assertKey, prefixOf, rateLimiterKeys } from './keys.js';
import { weightError } from './lease-queue.js';
import { RATE_LIMITER_LUA } from './lua.js';
import { RemoteQueue } from './remote-queue.js';
import { Script } from './script.js';

/**
 * Options of {@link RedisRateLimiter}.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisRateLimiter, type RedisRateLimiterOptions } from 'weftjs/redis';
 *
 * const options: RedisRateLimiterOptions = { limit: 5_000, interval: 3_600_000 }; // 5000 an hour
 * const github = new RedisRateLimiter(new Redis(), 'github-token-1', options);
 * ```
 */
export interface RedisRateLimiterOptions {
  /** The most weight admitted in any window of `interval` ms, summed over every process; a positive integer. */
  limit: number;
  /** The window, in ms; a positive finite number (Redis counts whole milliseconds, rounding up). */
  interval: number;
  /** Prepended to every Redis key and hash tag of the limiter. Default `'weft:'`. */
  prefix?: string | undefined;
}

/**
 * Options of {@link RedisRateLimiter.run}: the wait options plus the weight of the call.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisRateLimiter, type RedisRateLimiterRunOptions } from 'weftjs/redis';
 *
 * const limiter = new RedisRateLimiter(new Redis(), 'search-api', { limit: 100, interval: 60_000 });
 * const options: RedisRateLimiterRunOptions = { weight: 5, timeout: 30_000 };
 * await limiter.run(async () => 'a search costing 5 units', options);
 * ```
 */
export interface RedisRateLimiterRunOptions extends WaitOptions {
  /** Weight of the call, a positive integer no larger than the limit. Default `1`. */
  weight?: number | undefined;
}

const NAMES = {
  owner: 'RedisRateLimiter',
  acquire: 'RedisRateLimiter.take',
  tryAcquire: 'RedisRateLimiter.tryTake',
  run: 'RedisRateLimiter.run',
} as const;

/** How long a waiter whose process went silent stays queued, in ms; its heartbeat runs every third of it. */
const WAITER_LIFETIME = 10_000;

let script: Script | undefined;

class RateQueue extends RemoteQueue<undefined> {
  protected admit(): undefined {
    return undefined;
  }
}

/**
 * The in-process `RateLimiter` guarantee, summed over every process that uses the same key: at most `limit`
 * (weights summed) admitted in ANY sliding window of `interval` ms, as Redis's clock counts them. Callers are
 * admitted strictly in arrival order at Redis; the head of the queue is woken when the window lets it in (a timer
 * set from Redis's answer, not polling), and an idle limiter keeps no timer, connection or Redis key.
 *
 * @example 5000 requests an hour per token, shared by every instance
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisRateLimiter } from 'weftjs/redis';
 *
 * const limiter = new RedisRateLimiter(new Redis(), 'github:token-1', { limit: 5_000, interval: 3_600_000 });
 * const repo = await limiter.run(() => fetch('https://api.github.com/repos/nodejs/node').then((r) => r.json()));
 * ```
 */
export class RedisRateLimiter {
  readonly #queue: RateQueue;
  /** The most weight admitted in any window, as given to the constructor. */
  readonly limit: number;
  /** The window in ms, as given to the constructor. */
  readonly interval: number;

  /**
   * @param client - An ioredis or node-redis client; weft opens its extra connection with `duplicate()`.
   * @param key - The limiter's name in Redis, a non-empty string.
   * @param opts - `limit`, `interval` (ms) and key `prefix` (default `'weft:'`); the same in every process.
   * @throws `TypeError` for a client that is neither ioredis nor node-redis, a bad key or option; `RangeError`
   *   for a limit or interval out of range.
   *
   * @example
   * ```ts
   * import { createClient } from 'redis';
   * import { RedisRateLimiter } from 'weftjs/redis';
   *
   * const client = await createClient().connect();
   * const sms = new RedisRateLimiter(client, 'sms-provider', { limit: 10, interval: 1_000 });
   * ```
   */
  constructor(client: RedisClient, key: string, opts: RedisRateLimiterOptions) {
    if (opts === null || typeof opts !== 'object')
      throw invalid(NAMES.owner, 'options must be an object', opts);
    assertKey(NAMES.owner, key);
    const { limit, interval } = opts;
    assertPositiveInteger(NAMES.owner, 'limit', limit);
    if (typeof interval !== 'number' || !(interval > 0) || interval === Infinity) {
      throw invalid(
        NAMES.owner,
        'interval must be a positive finite number',
        interval,
        typeof interval === 'number',
      );
    }
    const connection = connectionOf(NAMES.owner, client);
    const keys = rateLimiterKeys(prefixOf(NAMES.owner, opts.prefix), key);
    this.limit = limit;
    this.interval = interval;
    script ??= new Script(RATE_LIMITER_LUA);
    this.#queue = new RateQueue(connection, script, keys, NAMES, limit, Math.ceil(interval), WAITER_LIFETIME);
  }

  /**
   * Waits for its turn (strictly in arrival order across every process), then admits `weight`. One round trip when
   * the window has room and nobody waits.
   *
   * @param weight - Weight to admit, a positive integer no larger than the limit. Default `1`.
   * @param opts - `signal` to abort the wait, `timeout` in ms (`0`: only if it can be admitted now).
   * @returns Resolves once admitted. Rejects with `TypeError` / `RangeError` for a bad weight or option
   *   (`weight > limit` included), with `signal.reason` or a `TimeoutError`.
   *
   * @example
   * ```ts
   * import Redis from 'ioredis';
   * import { RedisRateLimiter } from 'weftjs/redis';
   *
   * const limiter = new RedisRateLimiter(new Redis(), 'mailer', { limit: 14, interval: 1_000 });
   * await limiter.take(1, { timeout: 10_000 });
   * ```
   */
  take(weight: number = 1, opts?: WaitOptions): Promise<void> {
    if (weight !== 1) {
      const error = weightError(NAMES.acquire, weight, this.limit, 'limit');
      if (error !== undefined) return Promise.reject(error);
    }
    return this.#queue.acquire(weight, opts);
  }

  /**
   * Admits `weight` if the window has room now and nobody waits (it never overtakes a waiter). One round trip.
   *
   * @param weight - Weight to admit, a positive integer no larger than the limit. Default `1`.
   * @returns Whether it was admitted. Rejects for a bad weight, and with an error whose `cause` is the client's
   *   error when Redis cannot be reached.
   *
   * @example
   * ```ts
   * import Redis from 'ioredis';
   * import { RedisRateLimiter } from 'weftjs/redis';
   *
   * const limiter = new RedisRateLimiter(new Redis(), 'webhooks', { limit: 50, interval: 1_000 });
   * if (!(await limiter.tryTake())) console.log('over the limit: answer 429');
   * ```
   */
  async tryTake(weight: number = 1): Promise<boolean> {
    if (weight !== 1) {
      const error = weightError(NAMES.tryAcquire, weight, this.limit, 'limit');
      if (error !== undefined) throw error;
    }
    return (await this.#queue.tryAcquire(weight)) !== null;
  }

  /**
   * Waits for admission, then calls `fn` and settles with its result.
   *
   * @param fn - The call to make once admitted.
   * @param opts - `weight` (default `1`) and `signal` / `timeout` for the wait before `fn` starts.
   * @returns `fn`'s result or error; rejects as {@link RedisRateLimiter.take} does while waiting.
   *
   * @example
   * ```ts
   * import Redis from 'ioredis';
   * import { RedisRateLimiter } from 'weftjs/redis';
   *
   * const limiter = new RedisRateLimiter(new Redis(), 'geocoder', { limit: 50, interval: 1_000 });
   * const place = await limiter.run(() => fetch('https://example.com/geocode?q=Paris').then((r) => r.json()));
   * ```
   */
  async run<T>(fn: () => T | PromiseLike<T>, opts?: RedisRateLimiterRunOptions): Promise<T> {
    if (typeof fn !== 'function') throw invalid(NAMES.run, 'fn must be a function', fn);
    let weight: unknown = 1;
    if (opts !== null && typeof opts === 'object' && opts.weight !== undefined) {
      weight = opts.weight;
      const error = weightError(NAMES.run, weight, this.limit, 'limit');
      if (error !== undefined) throw error;
    }
    await this.#queue.acquire(weight as number, opts);
    return fn();
  }
}
