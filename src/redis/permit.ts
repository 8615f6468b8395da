/**
 * {@link RedisPermit}: a grant of a Redis semaphore or mutex, with its fencing token and a lease renewed in the
 * background until it is released. When a renewal cannot be confirmed in time the permit's signal aborts, a
 * margin before the lease can end in Redis, so that work under the permit stops before anyone else is granted.
 */
import { LeaseLostError } from '../errors.js';
import { timerDelay } from '../internal/waiter.js';
import { ignore } from '../internal/promise.js';
import { isTransient } from './script.js';
import type { RemoteQueue } from './remote-queue.js';
import { unref } from './wake.js';

/**
 * A held grant of a {@link RedisMutex} or {@link RedisSemaphore}. Release it once (`release()` is idempotent), or
 * with `await using`. Its lease is renewed while it is held; if that fails, `signal` aborts with a
 * {@link LeaseLostError} before the lease can run out.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisMutex } from 'weftjs/redis';
 *
 * declare function writeReport(fencingToken: number, signal: AbortSignal): Promise<void>;
 * const mutex = new RedisMutex(new Redis(), 'daily-report', { lease: 15_000 });
 * {
 *   await using lock = await mutex.lock();
 *   await writeReport(lock.token, lock.signal);
 * } // released here
 * ```
 */
export interface RedisPermit extends AsyncDisposable {
  /**
   * The fencing token: strictly increasing over every grant ever made for this key. Hand it to the store the
   * permit protects, so that it can reject writes from a holder whose lease has ended.
   */
  readonly token: number;
  /** Aborts, with a {@link LeaseLostError} as reason, when the lease can no longer be guaranteed. */
  readonly signal: AbortSignal;
  /**
   * Gives the permits back; the next waiters are granted at once. Idempotent. Resolves once Redis has them back;
   * rejects (with the client's error as `cause`) if Redis cannot be reached, in which case the lease simply ends.
   */
  release(): Promise<void>;
}

/** Margin before the lease's end at which an unconfirmed permit is given up: a tenth of the lease, at most 2 s. */
export function leaseMargin(lease: number): number {
  return Math.min(lease / 10, 2_000);
}

export class LeasedPermit implements RedisPermit {
  /** Made when `signal` is first read or the lease is lost: most permits are released without either. */
  private controller: AbortController | undefined = undefined;
  private state: 'held' | 'lost' | 'released' = 'held';
  /** Local time until which the lease is known to hold. */
  private deadline: number;
  private renewTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Armed while a renewal is outstanding: fires a margin before `deadline`. */
  private lossTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  private released: Promise<void> | undefined = undefined;
  private lastError: unknown = undefined;

  constructor(
    private readonly queue: RemoteQueue<LeasedPermit>,
    private readonly id: string,
    readonly token: number,
    private readonly lease: number,
    deadline: number,
  ) {
    this.deadline = deadline;
    this.confirm(deadline);
  }

  get signal(): AbortSignal {
    return (this.controller ??= new AbortController()).signal;
  }

  /** The lease is known to last until local time `deadline`: renew once a third of it has passed. */
  private confirm(deadline: number): void {
    this.clearTimers();
    this.deadline = deadline;
    const delay = deadline - (this.lease * 2) / 3 - performance.now();
    this.renewTimer = unref(setTimeout(renew, timerDelay(Math.max(0, delay)), this));
  }

  renew(): void {
    this.renewTimer = undefined;
    // Gives up a margin before the lease can end, unless this renewal (or a retry) is confirmed first.
    const untilLoss = this.deadline - leaseMargin(this.lease) - performance.now();
    this.lossTimer ??= unref(setTimeout(lose, timerDelay(Math.max(0, untilLoss)), this));
    const sentAt = performance.now();
    this.queue.call('renew', [this.id]).then(
      (reply) => {
        if (this.state !== 'held') return;
        if (reply[0] === 1) this.confirm(sentAt + this.lease);
        else
          this.lose(
            new LeaseLostError(`${this.queue.names.owner}: the lease ended before it could be renewed`),
          );
      },
      (error: unknown) => {
        if (this.state !== 'held') return;
        this.lastError = error;
        if (!isTransient(error)) this.lose(this.lostError());
        else this.renewTimer = unref(setTimeout(renew, Math.min(this.lease / 10, 1_000), this));
      },
    );
  }

  lostError(): LeaseLostError {
    return new LeaseLostError(`${this.queue.names.owner}: the lease could not be renewed in time`, {
      cause: this.lastError,
    });
  }

  lose(reason: LeaseLostError): void {
    if (this.state !== 'held') return;
    this.state = 'lost';
    this.clearTimers();
    (this.controller ??= new AbortController()).abort(reason);
  }

  release(): Promise<void> {
    if (this.released !== undefined) return this.released;
    this.state = 'released';
    this.clearTimers();
    this.released = this.queue.call('leave', [this.id]).then(ignore, (error: unknown) => {
      throw new Error(`${this.queue.names.owner}: release failed; the lease ends on its own`, {
        cause: error,
      });
    });
    // A caller that does not await the release must not see an unhandled rejection.
    this.released.catch(ignore);
    return this.released;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  private clearTimers(): void {
    if (this.renewTimer !== undefined) clearTimeout(this.renewTimer);
    if (this.lossTimer !== undefined) clearTimeout(this.lossTimer);
    this.renewTimer = this.lossTimer = undefined;
  }
}

function renew(permit: LeasedPermit): void {
  permit.renew();
}

function lose(permit: LeasedPermit): void {
  permit.lose(permit.lostError());
}
