import { ClosedError } from '../errors.js';
import { Waiter, timeoutError, timerDelay, waitOptionsError } from '../internal/waiter.js';
import { rejected, resolved } from '../internal/promise.js';
import { assertPositiveInteger, invalid, positiveIntegerError } from '../internal/validate.js';
import { WaitQueue } from '../internal/wait-queue.js';
import type { WaitOptions } from '../types.js';
import { AdmissionLog } from './admission-log.js';

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
 * Milliseconds on the monotonic clock. Looked up on every call rather than captured, so that a test's fake timers
 * (which replace `performance`) move the limiter's clock along with its timers.
 */
function now(): number {
  return performance.now();
}

const TAKE = 'RateLimiter.take';
const RUN = 'RateLimiter.run';

/** A queued `take` (no `fn`) or `run(fn)`. */
class RateWaiter extends Waiter<void> {
  constructor(
    /** The limiter's withdraw function. */
    private readonly withdraw: (waiter: RateWaiter) => void,
    readonly weight: number,
    /** The function of a run. */
    readonly fn: (() => unknown) | undefined,
  ) {
    super();
  }
  get operation(): string {
    return this.fn === undefined ? TAKE : RUN;
  }
  cancel(reason: unknown): void {
    this.withdraw(this);
    this.fail(reason);
  }
}

/** The admission log of a limiter, for tests of its memory bound (not exported from the package). */
export let admissionLogOf: (limiter: RateLimiter) => AdmissionLog;

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
  static {
    admissionLogOf = (limiter) => limiter.#log;
  }

  /** The admissions in the window. */
  readonly #log: AdmissionLog;
  readonly #queue = new WaitQueue<RateWaiter>();
  /**
   * Runs admitted whose `fn` has not started yet, in admission order, as pairs of `fn` and its log entry (from
   * `startHead` to `startTail`). Each admission queues exactly one start reaction, registered in the caller's call
   * (so `fn` runs in the caller's async context), and reactions run in the order they were queued, so each takes the
   * oldest pair.
   */
  #starts: unknown[] = [];
  #startHead = 0;
  #startTail = 0;
  /** The clock's last reading: expiring entries as of then is never too early, and costs no clock read. */
  #lastTime = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined = undefined;
  #isClosed = false;
  /** What waiters reject with once closed; `undefined` for a {@link ClosedError}. */
  #closeReason: unknown = undefined;

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
    this.#log = new AdmissionLog(limit, interval);
    this.limit = limit;
    this.interval = interval;
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
  readonly limit: number;

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
  readonly interval: number;

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
    this.#log.expire(this.#clock());
    return this.limit - this.#log.used;
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
    return this.#queue.length;
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
    return this.#isClosed;
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
    const error = this.#admissionError(TAKE, weight, opts);
    if (error !== undefined) return rejected(error);
    if (this.#queue.length === 0 && this.#admitNow(weight) !== -1) return resolved();
    return this.#enqueue(new RateWaiter(this.#withdraw, weight, undefined), opts);
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
    const error = this.#weightError('RateLimiter.tryTake', weight);
    if (error !== undefined) throw error;
    return !this.#isClosed && this.#queue.length === 0 && this.#admitNow(weight) !== -1;
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
    const weight = opts !== null && typeof opts === 'object' && opts.weight !== undefined ? opts.weight : 1;
    const error = this.#admissionError(RUN, weight, opts);
    if (error !== undefined) return rejected(error);
    if (this.#queue.length === 0) {
      const seq = this.#admitRun(weight);
      if (seq !== -1) {
        this.#queueStart(fn, seq);
        return resolved().then(this.#start) as Promise<T>;
      }
    }
    return this.#enqueue(new RateWaiter(this.#withdraw, weight, fn), opts).then(this.#start) as Promise<T>;
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
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#closeReason = reason;
    clearTimeout(this.#timer);
    for (const waiter of this.#queue.drain()) waiter.fail(this.#closedError());
  }

  /** Starts the oldest admitted run, restamping its log entry: the moment `fn` starts is what the window counts. */
  readonly #start = (): unknown => {
    const head = this.#startHead;
    const fn = this.#starts[head] as () => unknown;
    this.#log.stamp(this.#starts[head + 1] as number, this.#clock());
    this.#starts[head] = undefined;
    this.#startHead = head + 2;
    if (this.#startHead === this.#startTail) {
      this.#startHead = this.#startTail = 0;
      if (this.#starts.length > 1024) this.#starts = [];
    }
    return fn();
  };

  #queueStart(fn: () => unknown, seq: number): void {
    this.#starts[this.#startTail++] = fn;
    this.#starts[this.#startTail++] = seq;
  }

  /** Takes a cancelled waiter out; if it was the head, the next one may fit now or sooner. */
  readonly #withdraw = (waiter: RateWaiter): void => {
    const wasHead = this.#queue.peek() === waiter;
    this.#queue.remove(waiter);
    if (wasHead) this.#admit();
  };

  /**
   * Admits waiters from the head, in order, while the head fits; then arms the timer for the head's turn, or leaves
   * none when nobody waits. The timer may fire a little early (Node.js rounds times to whole milliseconds): the head
   * then still does not fit, and the timer is armed again.
   */
  readonly #admit = (): void => {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let head = this.#queue.peek();
    const time = this.#clock();
    this.#log.expire(time);
    while (head !== undefined && this.#log.used + head.weight <= this.limit) {
      this.#queue.shift();
      const seq = this.#log.add(time, head.weight);
      if (head.fn !== undefined) this.#queueStart(head.fn, seq);
      head.grant(undefined);
      head = this.#queue.peek();
    }
    if (head !== undefined) this.#schedule(head, time);
  };

  /** Enters `weight` in the log if it fits now; returns its sequence number, or -1. */
  #admitNow(weight: number): number {
    const time = this.#clock();
    this.#log.expire(time);
    return this.#log.used + weight <= this.limit ? this.#log.add(time, weight) : -1;
  }

  /**
   * {@link admitNow} for a run, which is restamped when its `fn` starts: until then its entry counts as admitted at
   * `Infinity` (it cannot leave the window before it has started), and the clock is read only if the window looks
   * full as of its last reading.
   */
  #admitRun(weight: number): number {
    this.#log.expire(this.#lastTime);
    if (this.#log.used + weight > this.limit) {
      this.#log.expire(this.#clock());
      if (this.#log.used + weight > this.limit) return -1;
    }
    return this.#log.add(Infinity, weight);
  }

  #clock(): number {
    return (this.#lastTime = now());
  }

  /** Queues a waiter that could not be admitted at once (or rejects it at once for `timeout: 0`). */
  #enqueue(waiter: RateWaiter, opts: WaitOptions | undefined): Promise<void> {
    if (opts?.timeout === 0) return rejected(timeoutError(waiter.operation, 0));
    this.#queue.push(waiter);
    if (this.#queue.length === 1) this.#schedule(waiter, this.#lastTime); // read when it did not fit
    return waiter.wait(opts?.signal, opts?.timeout);
  }

  /**
   * Arms the one timer for when `head` fits. A run admitted but not started yet counts as admitted at `Infinity`;
   * it will start within this turn, so it is expected to leave the window an interval from now.
   */
  #schedule(head: RateWaiter, time: number): void {
    const delay = Math.ceil(Math.min(this.#log.fitsAt(head.weight), time + this.interval) - time);
    this.#timer = setTimeout(this.#admit, timerDelay(Math.max(1, delay)));
  }

  #weightError(where: string, weight: number): RangeError | TypeError | undefined {
    if (weight === 1) return undefined;
    const error = positiveIntegerError(where, 'weight', weight);
    if (error !== undefined || weight <= this.limit) return error;
    return new RangeError(`${where}: weight must be at most the limit (${this.limit}), got ${weight}`);
  }

  #admissionError(where: string, weight: number, opts: WaitOptions | undefined): unknown {
    const error = this.#weightError(where, weight);
    if (error !== undefined) return error;
    if (opts !== undefined) {
      // An abort reason may be any value, `null` included.
      const reason = waitOptionsError(where, opts);
      if (reason !== undefined) return reason;
    }
    return this.#isClosed ? this.#closedError() : undefined;
  }

  #closedError(): unknown {
    return this.#closeReason !== undefined ? this.#closeReason : new ClosedError('RateLimiter closed');
  }
}
