import { assertPositiveInteger } from '../internal/validate.js';
import type { WaitOptions } from '../types.js';
import type { RedisClient } from './client.js';
import {
  leaseQueue,
  runHolding,
  weightError,
  type LeaseQueue,
  type RedisLockOptions,
} from './lease-queue.js';
import type { RedisPermit } from './permit.js';

/**
 * Options of {@link RedisSemaphore.run}: the wait options plus the number of permits held while `fn` runs.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisSemaphore, type RedisSemaphoreRunOptions } from 'weftjs/redis';
 *
 * const sem = new RedisSemaphore(new Redis(), 'exports', 10);
 * const options: RedisSemaphoreRunOptions = { weight: 4, timeout: 30_000 };
 * await sem.run(async () => 'a heavy export', options);
 * ```
 */
export interface RedisSemaphoreRunOptions extends WaitOptions {
  /** Permits held while `fn` runs, a positive integer no larger than the capacity. Default `1`. */
  weight?: number | undefined;
}

const NAMES = {
  owner: 'RedisSemaphore',
  acquire: 'RedisSemaphore.acquire',
  tryAcquire: 'RedisSemaphore.tryAcquire',
  run: 'RedisSemaphore.run',
} as const;

/**
 * A counting semaphore shared by every process that uses the same Redis key: "at most N of these at a time, across
 * the fleet". The rules of the in-process `Semaphore` hold: weighted, strictly first-come-first-served by arrival
 * at Redis (a heavy waiter at the head is served before lighter ones behind it), `{ signal, timeout }` on every wait,
 * a cancelled waiter leaves no trace in Redis. Each grant is leased (see {@link RedisLockOptions.lease}) and carries
 * a fencing token. Every process must give the same `permits` for a key.
 *
 * @example At most 8 calls to a payment API across all instances
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisSemaphore } from 'weftjs/redis';
 *
 * declare function charge(orderId: string): Promise<void>;
 * const payments = new RedisSemaphore(new Redis(process.env.REDIS_URL ?? ''), 'payment-api', 8, { lease: 20_000 });
 * await payments.run(() => charge('order-42'), { timeout: 10_000 });
 * ```
 */
export class RedisSemaphore {
  readonly #queue: LeaseQueue;

  /**
   * @param client - An ioredis or node-redis client; weft opens its extra connection with `duplicate()`.
   * @param key - The semaphore's name in Redis, a non-empty string.
   * @param permits - The capacity, a positive integer (the same in every process).
   * @param opts - `lease` (ms, default 30 s) and key `prefix` (default `'weft:'`).
   * @throws `TypeError` for a client that is neither ioredis nor node-redis, a bad key or option; `RangeError`
   *   for permits or a lease out of range.
   *
   * @example
   * ```ts
   * import { createClient } from 'redis';
   * import { RedisSemaphore } from 'weftjs/redis';
   *
   * const client = await createClient({ url: 'redis://127.0.0.1:6379' }).connect();
   * const downloads = new RedisSemaphore(client, 'downloads', 4, { lease: 60_000 });
   * ```
   */
  constructor(client: RedisClient, key: string, permits: number, opts?: RedisLockOptions) {
    assertPositiveInteger(NAMES.owner, 'permits', permits);
    this.#queue = leaseQueue(NAMES, client, key, permits, opts);
  }

  /**
   * Total number of permits, as given to the constructor.
   *
   * @example
   * ```ts
   * import Redis from 'ioredis';
   * import { RedisSemaphore } from 'weftjs/redis';
   *
   * console.log(new RedisSemaphore(new Redis(), 'jobs', 4).capacity); // 4
   * ```
   */
  get capacity(): number {
    return this.#queue.capacity;
  }

  /**
   * Waits for `weight` permits, in arrival order across every process, and resolves with a {@link RedisPermit}.
   * Uncontended, this is one round trip to Redis. A waiter learns of its grant through Redis at once (no polling).
   * While Redis is unreachable or restarting the wait goes on, until its own timeout or abort.
   *
   * @param weight - Permits to take, a positive integer no larger than the capacity. Default `1`.
   * @param opts - `signal` to abort the wait (rejects with `signal.reason`), `timeout` in ms (rejects with a
   *   `DOMException` named `TimeoutError`; `0` takes the permits only if they are free now).
   * @returns The permit; release it once, by hand or with `await using`. Rejects with `TypeError` / `RangeError`
   *   for a bad weight or option (`weight > capacity` included), or with an error whose `cause` is the Redis error
   *   when Redis refuses the script.
   *
   * @example
   * ```ts
   * import Redis from 'ioredis';
   * import { RedisSemaphore } from 'weftjs/redis';
   *
   * const sem = new RedisSemaphore(new Redis(), 'gpu-jobs', 4);
   * await using permit = await sem.acquire(2, { timeout: 60_000 });
   * console.log('holding 2 GPUs, fencing token', permit.token);
   * ```
   */
  acquire(weight: number = 1, opts?: WaitOptions): Promise<RedisPermit> {
    if (weight !== 1) {
      const error = weightError(NAMES.acquire, weight, this.#queue.capacity);
      if (error !== undefined) return Promise.reject(error);
    }
    return this.#queue.acquire(weight, opts);
  }

  /**
   * Takes `weight` permits if they are free now and nobody is queued (it never overtakes a waiter). One round trip.
   *
   * @param weight - Permits to take, a positive integer no larger than the capacity. Default `1`.
   * @returns The permit, or `undefined` if it would have to wait. Rejects for a bad weight, and with an error whose
   *   `cause` is the client's error when Redis cannot be reached.
   *
   * @example
   * ```ts
   * import Redis from 'ioredis';
   * import { RedisSemaphore } from 'weftjs/redis';
   *
   * const sem = new RedisSemaphore(new Redis(), 'crawlers', 3);
   * const permit = await sem.tryAcquire();
   * if (permit === undefined) console.log('enough crawlers running');
   * else await permit.release();
   * ```
   */
  async tryAcquire(weight: number = 1): Promise<RedisPermit | undefined> {
    if (weight !== 1) {
      const error = weightError(NAMES.tryAcquire, weight, this.#queue.capacity);
      if (error !== undefined) throw error;
    }
    return (await this.#queue.tryAcquire(weight)) ?? undefined;
  }

  /**
   * Runs `fn` holding `weight` permits and settles with its result; the permits are released whatever `fn` does.
   *
   * @param fn - The work, given the permit (its `token` and `signal`).
   * @param opts - `weight` (default `1`) and `signal` / `timeout` for the wait before `fn` starts.
   * @returns `fn`'s result, or its error; rejects as {@link RedisSemaphore.acquire} does while waiting.
   *
   * @example
   * ```ts
   * import Redis from 'ioredis';
   * import { RedisSemaphore } from 'weftjs/redis';
   *
   * const sem = new RedisSemaphore(new Redis(), 'renders', 2);
   * const url = await sem.run(async (permit) => `rendered under token ${permit.token}`, { weight: 1 });
   * ```
   */
  run<T>(fn: (permit: RedisPermit) => T | PromiseLike<T>, opts?: RedisSemaphoreRunOptions): Promise<T> {
    let weight: unknown = 1;
    if (opts !== null && typeof opts === 'object' && opts.weight !== undefined) {
      weight = opts.weight;
      const error = weightError(NAMES.run, weight, this.#queue.capacity);
      if (error !== undefined) return Promise.reject(error);
    }
    return runHolding(this.#queue, weight as number, fn, opts);
  }
}
