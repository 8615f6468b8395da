/**
 * The engine behind {@link RedisSemaphore} and {@link RedisMutex}: argument checks, the Redis queue with leased
 * grants, and `run`. Internal: the public classes delegate here.
 */
import { invalid, positiveIntegerError } from '../internal/validate.js';
import type { WaitOptions } from '../types.js';
import { connectionOf, type RedisClient } from './client.js';
import { assertKey, prefixOf, semaphoreKeys } from './keys.js';
import { SEMAPHORE_LUA } from './lua.js';
import { LeasedPermit, leaseMargin, type RedisPermit } from './permit.js';
import { RemoteQueue, type RemoteNames } from './remote-queue.js';
import { Script } from './script.js';

/**
 * Options of {@link RedisMutex} and {@link RedisSemaphore}.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisMutex, type RedisLockOptions } from 'weftjs/redis';
 *
 * const options: RedisLockOptions = { lease: 10_000, prefix: 'billing:' };
 * const mutex = new RedisMutex(new Redis(), 'invoice:42', options);
 * ```
 */
export interface RedisLockOptions {
  /**
   * How long a grant outlives its holder's process, in ms (an integer, at least 100). Default `30_000`. The
   * lease is renewed every third of it while the permit is held; a holder that dies frees its permits at most this
   * long after; a holder that cannot renew sees `permit.signal` abort a tenth of it (at most 2 s) before its end.
   * A queued waiter whose process dies is dropped when it reaches the head, at most this long after.
   */
  lease?: number | undefined;
  /** Prepended to every Redis key and hash tag of the primitive. Default `'weft:'`. */
  prefix?: string | undefined;
}

/** The lease used when none is given, in ms. */
const DEFAULT_LEASE = 30_000;
const MIN_LEASE = 100;

let script: Script | undefined;

class LeaseQueue extends RemoteQueue<LeasedPermit> {
  constructor(
    client: RedisClient,
    key: string,
    readonly capacity: number,
    readonly lease: number,
    prefix: string,
    names: RemoteNames,
  ) {
    super(
      connectionOf(names.owner, client),
      (script ??= new Script(SEMAPHORE_LUA)),
      semaphoreKeys(prefix, key),
      names,
      capacity,
      lease,
      lease,
    );
  }

  protected admit(id: string, _weight: number, token: number, deadline: number): LeasedPermit | null {
    if (deadline - performance.now() <= leaseMargin(this.lease)) return null;
    return new LeasedPermit(this, id, token, this.lease, deadline);
  }
}

/** Checks the arguments shared by the Redis mutex and semaphore and builds their engine. */
export function leaseQueue(
  names: RemoteNames,
  client: RedisClient,
  key: string,
  capacity: number,
  opts: RedisLockOptions | undefined,
): LeaseQueue {
  assertKey(names.owner, key);
  if (opts !== undefined && (opts === null || typeof opts !== 'object')) {
    throw invalid(names.owner, 'options must be an object', opts);
  }
  const lease = opts?.lease ?? DEFAULT_LEASE;
  if (typeof lease !== 'number' || !Number.isInteger(lease) || lease < MIN_LEASE) {
    throw invalid(
      names.owner,
      `lease must be an integer number of milliseconds, at least ${MIN_LEASE}`,
      lease,
      typeof lease === 'number',
    );
  }
  const prefix = prefixOf(names.owner, opts?.prefix);
  return new LeaseQueue(client, key, capacity, lease, prefix, names);
}

export type { LeaseQueue };

/** The error for a bad weight (above `capacity`, called `bound` in the message, included), or `undefined`. */
export function weightError(
  where: string,
  weight: unknown,
  capacity: number,
  bound = 'capacity',
): TypeError | RangeError | undefined {
  const error = positiveIntegerError(where, 'weight', weight);
  if (error !== undefined) return error;
  if ((weight as number) > capacity) {
    return new RangeError(
      `${where}: weight must be at most the ${bound} (${capacity}), got ${weight as number}`,
    );
  }
  return undefined;
}

/** Acquires, runs `fn` with the permit, releases whatever `fn` does; a failed release does not hide `fn`'s outcome. */
export async function runHolding<T>(
  queue: LeaseQueue,
  weight: number,
  fn: (permit: RedisPermit) => T | PromiseLike<T>,
  opts: WaitOptions | undefined,
): Promise<T> {
  if (typeof fn !== 'function') throw invalid(queue.names.run, 'fn must be a function', fn);
  const permit = await queue.acquire(weight, opts);
  try {
    return await fn(permit);
  } finally {
    await permit.release().catch(() => undefined);
  }
}
