import { assertPositiveInteger, invalid, positiveIntegerError } from '../internal/validate.js';
import type { WaitOptions } from '../types.js';
import { RateQueue } from './rate-queue.js';

/**
 * Options of the {@link RateLimiter} constructor: at most `limit` admissions (weights summed) in any `interval` ms.
 *
 * @example 10 requests a second
 * ```ts
 * import { RateLimiter, type RateLimiterOptions } from 'weftjs/sync';
 *
 * const options: RateLimiterOptions = { limit: 10, interval: 1_000 };
 * const limiter = new RateLimiter(options);
 * ```
 */
export interface RateLimiterOptions {
  /**
   * The most weight admitted in any window of `interval` ms: a positive integer.
   *
   * @example
   * ```ts
   * import { RateLimiter } from 'weftjs/sync';
   *
   * const github = new RateLimiter({ limit: 5_000, interval: 60 * 60 * 1_000 }); // 5000 an hour
   * ```
   */
  readonly limit: number;
  /**
   * The length of the sliding window in milliseconds: a positive, finite number.
   *
   * @example
   * ```ts
   * import { RateLimiter } from 'weftjs/sync';
   *
   * const perSecond = new RateLimiter({ limit: 100, interval: 1_000 });
   * ```
   */
  readonly interval: number;
}

/**
 * Options of {@link RateLimiter.run}: the usual wait options plus the weight of the call.
 *
 * @example
 * ```ts
 * import { RateLimiter, type RateLimiterRunOptions } from 'weftjs/sync';
 *
 * const limiter = new RateLimiter({ limit: 10, interval: 1_000 });
 * const options: RateLimiterRunOptions = { weight: 2, timeout: 5_000 };
 * await limiter.run(async () => 'a call that counts twice', options);
 * ```
 */
export interface RateLimiterRunOptions extends WaitOptions {
  /**
   * How much of the limit the call uses, a positive integer no larger than the limit. Default `1`.
   *
   * @example
   * ```ts
   * import { RateLimiter } from 'weftjs/sync';
   *
   * const points = new RateLimiter({ limit: 1_000, interval: 60_000 }); // an API budget of 1000 points a minute
   * await points.run(async () => 'a search costs 10 points', { weight: 10 });
   * ```
   */
  weight?: number | undefined;
}

/**
 * A rate limiter: at most `limit` admissions (weights summed) in **any** sliding window of `interval` ms, the tool
 * for "at most 10 requests a second" or "5000 calls an hour".
 *
 * - The window slides: there is no fixed window edge across which twice the limit could pass. A burst of up to
 *   `limit` goes at once; after it, each admission waits until the weight admitted `interval` ms earlier has left the
 *   window, never ahead of it.
 * - Strict FIFO, as in {@link Semaphore}: a queued heavy call is never overtaken by lighter ones, and
 *   {@link RateLimiter.tryTake} never jumps the queue.
 * - Every wait takes `{ signal, timeout }`; an aborted or timed-out waiter leaves the queue at once, consumes
 *   nothing, and the waiters behind it go as soon as the window allows.
 * - At most one timer, armed only while someone waits: an idle limiter keeps no timer, so a process holding one
 *   exits normally. Memory is bounded by `limit` (a ring of the admissions in the window), not by traffic.
 *
 * It limits how often calls *start*, not how many run at once: combine it with {@link Semaphore} or {@link limit}
 * for that.
 *
 * @example Calling an API at most 10 times a second
 * ```ts
 * import { RateLimiter } from 'weftjs/sync';
 *
 * const limiter = new RateLimiter({ limit: 10, interval: 1_000 });
 * const ids = [1, 2, 3];
 * const users = await Promise.all(
 *   ids.map((id) => limiter.run(() => fetch(`https://api.example.com/users/${id}`).then((r) => r.json()))),
 * );
 * ```
 *
 * @example At most 5 at once and 10 a second
 * ```ts
 * import { RateLimiter, Semaphore } from 'weftjs/sync';
 *
 * const rate = new RateLimiter({ limit: 10, interval: 1_000 });
 * const inFlight = new Semaphore(5);
 * const get = (url: string): Promise<string> =>
 *   inFlight.run(() => rate.run(() => fetch(url).then((r) => r.text())));
 * ```
 */
export class RateLimiter {
  private readonly engine: RateQueue;

  /**
   * @param opts - `limit` (a positive integer) admissions per `interval` (a positive, finite number of ms).
   * @throws `TypeError` if an option has the wrong type, `RangeError` if it is out of range.
   *
   * @example
   * ```ts
   * import { RateLimiter } from 'weftjs/sync';
   *
   * const mail = new RateLimiter({ limit: 14, interval: 1_000 }); // a mail provider's 14 messages a second
   * ```
   */
  constructor(opts: RateLimiterOptions) {
    if (opts === null || typeof opts !== 'object') {
      throw invalid('RateLimiter', 'options must be an object', opts);
    }
    const { limit, interval } = opts;
    assertPositiveInteger('RateLimiter', 'limit', limit);
    if (typeof interval !== 'number' || !(interval > 0) || interval === Infinity) {
      throw invalid(
        'RateLimiter',
        'interval must be a positive finite number',
        interval,
        typeof interval === 'number',
      );
    }
    this.engine = new RateQueue(limit, interval);
  }

  /**
   * The most weight admitted in any window, as given to the constructor.
   *
   * @example
   * ```ts
   * import { RateLimiter } from 'weftjs/sync';
   *
   * console.log(new RateLimiter({ limit: 10, interval: 1_000 }).limit); // 10
   * ```
   */
  get limit(): number {
    return this.engine.limit;
  }

  /**
   * The window in milliseconds, as given to the constructor.
   *
   * @example
   * ```ts
   * import { RateLimiter } from 'weftjs/sync';
   *
   * console.log(new RateLimiter({ limit: 10, interval: 1_000 }).interval); // 1000
   * ```
   */
  get interval(): number {
    return this.engine.interval;
  }

  /**
   * Weight that could be admitted right now if nobody were queued: the limit minus the weight admitted in the last
   * `interval` ms. (Like {@link Semaphore.available}, it does not count waiters: while anyone is queued, a new
   * call waits behind them however large this is.)
   *
   * @example
   * ```ts
   * import { RateLimiter } from 'weftjs/sync';
   *
   * const limiter = new RateLimiter({ limit: 10, interval: 1_000 });
   * await limiter.take(3);
   * console.log(limiter.available); // 7
   * ```
   */
  get available(): number {
    return this.engine.available;
  }

  /**
   * Number of calls queued (takes and runs not yet admitted).
   *
   * @example
   * ```ts
   * import { RateLimiter } from 'weftjs/sync';
   *
   * const limiter = new RateLimiter({ limit: 1, interval: 1_000 });
   * await limiter.take();
   * const next = limiter.take(); // admitted a second after the first
   * console.log(limiter.pending); // 1
   * await next;
   * ```
   */
  get pending(): number {
    return this.engine.queue.length;
  }

  /**
   * True once {@link RateLimiter.close} has been called.
   *
   * @example
   * ```ts
   * import { RateLimiter } from 'weftjs/sync';
   *
   * const limiter = new RateLimiter({ limit: 10, interval: 1_000 });
   * limiter.close();
   * console.log(limiter.closed); // true
   * ```
   */
  get closed(): boolean {
    return this.engine.closed;
  }

  /**
   * Waits until `weight` more fits in the window and everyone queued before has been admitted, then counts it as
   * admitted now.
   *
   * A signal that is already aborted rejects at once with its reason; `timeout: 0` is admitted only if it fits now
   * and nobody is queued.
   *
   * @param weight - How much of the limit to take, a positive integer no larger than the limit. Default `1`.
   * @param opts - `signal` to abort the wait (rejects with `signal.reason`), `timeout` in milliseconds (rejects with
   *   a `DOMException` named `TimeoutError`). A cancelled wait takes nothing.
   * @returns Resolves once admitted. Rejects with `TypeError` / `RangeError` for a bad weight or option (including
   *   `weight > limit`), with the close reason (default a {@link ClosedError}) after {@link RateLimiter.close}.
   *
   * @example
   * ```ts
   * import { RateLimiter } from 'weftjs/sync';
   *
   * const limiter = new RateLimiter({ limit: 2, interval: 1_000 });
   * for (const page of [1, 2, 3, 4]) {
   *   await limiter.take(); // two pages a second
   *   console.log('fetching page', page);
   * }
   * ```
   */
  take(weight: number = 1, opts?: WaitOptions): Promise<void> {
    if (weight !== 1) {
      const error = positiveIntegerError('RateLimiter.take', 'weight', weight);
      if (error !== undefined) return Promise.reject(error);
    }
    return this.engine.take(weight, opts);
  }

  /**
   * Takes `weight` if it fits in the window right now and nobody is queued (it never overtakes a waiter).
   *
   * @param weight - How much of the limit to take, a positive integer. Default `1`.
   * @returns Whether it was admitted; `false` also once the limiter is closed.
   * @throws `TypeError` / `RangeError` for a bad weight, including `weight > limit`.
   *
   * @example Shedding load instead of queueing it
   * ```ts
   * import { RateLimiter } from 'weftjs/sync';
   *
   * const limiter = new RateLimiter({ limit: 100, interval: 1_000 });
   * function handle(respond: (status: number) => void): void {
   *   if (!limiter.tryTake()) return respond(429);
   *   respond(200);
   * }
   * handle((status) => console.log(status)); // 200
   * ```
   */
  tryTake(weight: number = 1): boolean {
    if (weight !== 1) assertPositiveInteger('RateLimiter.tryTake', 'weight', weight);
    return this.engine.tryTake(weight);
  }

  /**
   * Waits for admission as {@link RateLimiter.take} does, then calls `fn` and settles with its result. The moment
   * `fn` starts is the admission time the window counts.
   *
   * `fn` always starts asynchronously (never inside this call), in the caller's async context
   * (`AsyncLocalStorage` values are kept). A rate limiter holds nothing while `fn` runs: to also bound how many run
   * at once, combine it with a {@link Semaphore}.
   *
   * @param fn - The work to do.
   * @param opts - `weight` (default `1`), and `signal` / `timeout` for the wait before `fn` starts (they do not
   *   cancel `fn` once it runs).
   * @returns `fn`'s result. Rejects with what `fn` throws or rejects with, or as {@link RateLimiter.take} does
   *   while waiting; with a `TypeError` if `fn` is not a function.
   *
   * @example
   * ```ts
   * import { RateLimiter } from 'weftjs/sync';
   *
   * const limiter = new RateLimiter({ limit: 5, interval: 1_000 });
   * const status = await limiter.run(async () => (await fetch('https://example.com')).status, { timeout: 10_000 });
   * ```
   */
  run<T>(fn: () => T | PromiseLike<T>, opts?: RateLimiterRunOptions): Promise<T> {
    if (typeof fn !== 'function') {
      return Promise.reject(invalid('RateLimiter.run', 'fn must be a function', fn));
    }
    let weight: unknown = 1;
    if (opts !== null && typeof opts === 'object' && opts.weight !== undefined) {
      weight = opts.weight;
      const error = positiveIntegerError('RateLimiter.run', 'weight', weight);
      if (error !== undefined) return Promise.reject(error);
    }
    return this.engine.run(fn, weight as number, opts);
  }

  /**
   * Closes the limiter: every queued call rejects, and so does every later {@link RateLimiter.take} and
   * {@link RateLimiter.run} ({@link RateLimiter.tryTake} returns `false`). Its timer, if any, is cleared.
   * Idempotent: only the first call has an effect.
   *
   * @param reason - What waiters reject with. Left out (or `undefined`), they reject with a {@link ClosedError}.
   *
   * @example Shutting down
   * ```ts
   * import { ClosedError, RateLimiter } from 'weftjs/sync';
   *
   * const limiter = new RateLimiter({ limit: 1, interval: 60_000 });
   * await limiter.take();
   * const waiting = limiter.take();
   * limiter.close();
   * await waiting.catch((error: unknown) => console.log(error instanceof ClosedError)); // true
   * ```
   */
  close(reason?: unknown): void {
    this.engine.close(reason, reason !== undefined);
  }
}
