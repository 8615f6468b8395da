import { assertPositiveInteger, invalid, positiveIntegerError } from '../internal/validate.js';
import type { Permit, WaitOptions } from '../types.js';
import { PermitQueue } from './permit-queue.js';

/**
 * Options of {@link Semaphore.run}: the usual wait options plus the number of permits the task holds.
 *
 * @example
 * ```ts
 * import { Semaphore, type SemaphoreRunOptions } from 'weftjs/sync';
 *
 * const sem = new Semaphore(10);
 * const options: SemaphoreRunOptions = { weight: 3, timeout: 1_000 };
 * await sem.run(async () => 'a heavy job', options);
 * ```
 */
export interface SemaphoreRunOptions extends WaitOptions {
  /**
   * Permits held while `fn` runs, a positive integer no larger than the capacity. Default `1`.
   *
   * @example
   * ```ts
   * import { Semaphore } from 'weftjs/sync';
   *
   * const memory = new Semaphore(1024); // megabytes
   * await memory.run(async () => new Uint8Array(256 * 1024 * 1024).length, { weight: 256 });
   * ```
   */
  weight?: number | undefined;
}

const NAMES = {
  owner: 'Semaphore',
  acquire: 'Semaphore.acquire',
  tryAcquire: 'Semaphore.tryAcquire',
  run: 'Semaphore.run',
  waitForUnlock: 'Semaphore.waitForUnlock',
} as const;

/**
 * A counting semaphore with weighted, strictly first-come-first-served permits: the tool for "at most N of these at
 * a time" (open connections, requests in flight, megabytes of buffers).
 *
 * - A queued waiter is never overtaken: a heavy request at the head is served before lighter ones behind it, so
 *   nobody starves, and {@link Semaphore.tryAcquire} returns `undefined` while anyone waits.
 * - Every wait takes `{ signal, timeout }`; an aborted or timed-out waiter leaves the queue at once and lets the
 *   waiters behind it proceed.
 * - Permits are released exactly once, by hand or with `using`.
 *
 * @example Limiting requests in flight
 * ```ts
 * import { Semaphore } from 'weftjs/sync';
 *
 * const sem = new Semaphore(4);
 * const urls = ['https://example.com/a', 'https://example.com/b'];
 * const pages = await Promise.all(urls.map((url) => sem.run(() => fetch(url).then((r) => r.text()))));
 * ```
 *
 * @example Holding permits for a block, released by using
 * ```ts
 * import { Semaphore } from 'weftjs/sync';
 *
 * const memory = new Semaphore(1024); // megabytes
 * {
 *   using _permit = await memory.acquire(256, { timeout: 5_000 });
 *   // ... work with a 256 MB buffer ...
 * } // released here, even if the block throws
 * ```
 */
export class Semaphore {
  readonly #permits: PermitQueue;

  /**
   * @param permits - The capacity: how many permits exist, a positive integer.
   * @throws `TypeError` if `permits` is not a number, `RangeError` if it is not a positive integer.
   *
   * @example
   * ```ts
   * import { Semaphore } from 'weftjs/sync';
   *
   * const connections = new Semaphore(10);
   * ```
   */
  constructor(permits: number) {
    assertPositiveInteger('Semaphore', 'permits', permits);
    this.#permits = new PermitQueue(permits, NAMES);
  }

  /**
   * Total number of permits, as given to the constructor.
   *
   * @example
   * ```ts
   * import { Semaphore } from 'weftjs/sync';
   *
   * console.log(new Semaphore(4).capacity); // 4
   * ```
   */
  get capacity(): number {
    return this.#permits.capacity;
  }

  /**
   * Permits free right now.
   *
   * @example
   * ```ts
   * import { Semaphore } from 'weftjs/sync';
   *
   * const sem = new Semaphore(3);
   * using _permit = await sem.acquire(2);
   * console.log(sem.available); // 1
   * ```
   */
  get available(): number {
    return this.#permits.available;
  }

  /**
   * Number of waiters queued (acquires and runs not yet admitted).
   *
   * @example
   * ```ts
   * import { Semaphore } from 'weftjs/sync';
   *
   * const sem = new Semaphore(1);
   * const held = await sem.acquire();
   * const waiting = sem.acquire();
   * console.log(sem.pending); // 1
   * held.release();
   * (await waiting).release();
   * ```
   */
  get pending(): number {
    return this.#permits.queue.length;
  }

  /**
   * True once {@link Semaphore.close} has been called.
   *
   * @example
   * ```ts
   * import { Semaphore } from 'weftjs/sync';
   *
   * const sem = new Semaphore(1);
   * sem.close();
   * console.log(sem.closed); // true
   * ```
   */
  get closed(): boolean {
    return this.#permits.isClosed;
  }

  /**
   * Waits for `weight` permits and resolves with a {@link Permit} holding them.
   *
   * Waiters are served strictly in arrival order. A signal that is already aborted rejects at once with its reason;
   * `timeout: 0` takes the permits only if they are free now and nobody is queued.
   *
   * @param weight - Permits to take, a positive integer no larger than {@link Semaphore.capacity}. Default `1`.
   * @param opts - `signal` to abort the wait (rejects with `signal.reason`), `timeout` in milliseconds (rejects with
   *   a `DOMException` named `TimeoutError`).
   * @returns The permit; release it once, by hand or with `using`.
   *   Rejects with `TypeError` / `RangeError` for a bad weight or option (including `weight > capacity`), with the
   *   close reason (default a {@link ClosedError}) after {@link Semaphore.close}.
   *
   * @example
   * ```ts
   * import { Semaphore } from 'weftjs/sync';
   *
   * const sem = new Semaphore(2);
   * const permit = await sem.acquire();
   * try {
   *   // ... at most two of these run at a time ...
   * } finally {
   *   permit.release();
   * }
   * ```
   */
  acquire(weight: number = 1, opts?: WaitOptions): Promise<Permit> {
    if (weight !== 1) {
      const error = positiveIntegerError(NAMES.acquire, 'weight', weight);
      if (error !== undefined) return Promise.reject(error);
    }
    return this.#permits.acquire(weight, opts);
  }

  /**
   * Takes `weight` permits if they are free right now and nobody is queued (it never overtakes a waiter).
   *
   * @param weight - Permits to take, a positive integer. Default `1`.
   * @returns The permit, or `undefined` if it would have to wait or the semaphore is closed.
   * @throws `TypeError` / `RangeError` for a bad weight, including `weight > capacity`.
   *
   * @example
   * ```ts
   * import { Semaphore } from 'weftjs/sync';
   *
   * const sem = new Semaphore(1);
   * const permit = sem.tryAcquire();
   * if (permit === undefined) console.log('busy, try later');
   * else permit.release();
   * ```
   */
  tryAcquire(weight: number = 1): Permit | undefined {
    if (weight !== 1) assertPositiveInteger(NAMES.tryAcquire, 'weight', weight);
    return this.#permits.tryAcquire(weight);
  }

  /**
   * Runs `fn` while holding `weight` permits and settles with its result. The permits are released when `fn`
   * returns, throws, or its promise settles.
   *
   * `fn` always starts asynchronously (never inside this call), in the caller's async context
   * (`AsyncLocalStorage` values are kept), once the permits are admitted.
   *
   * @param fn - The work to do.
   * @param opts - `weight` (default `1`), and `signal` / `timeout` for the wait before `fn` starts (they do not
   *   cancel `fn` once it runs).
   * @returns `fn`'s result. Rejects with what `fn` throws or rejects with, or as {@link Semaphore.acquire} does
   *   while waiting; with a `TypeError` if `fn` is not a function.
   *
   * @example
   * ```ts
   * import { Semaphore } from 'weftjs/sync';
   *
   * const sem = new Semaphore(8);
   * const size = await sem.run(async () => (await fetch('https://example.com')).headers.get('content-length'), {
   *   timeout: 10_000,
   * });
   * ```
   */
  run<T>(fn: () => T | PromiseLike<T>, opts?: SemaphoreRunOptions): Promise<T> {
    if (typeof fn !== 'function') {
      return Promise.reject(invalid('Semaphore.run', 'fn must be a function', fn));
    }
    let weight: unknown = 1;
    if (opts !== null && typeof opts === 'object' && opts.weight !== undefined) {
      weight = opts.weight;
      const error = positiveIntegerError(NAMES.run, 'weight', weight);
      if (error !== undefined) return Promise.reject(error);
    }
    return this.#permits.run(fn, weight as number, opts);
  }

  /**
   * Waits until `weight` permits are free, without taking any: resolves once `weight` permits are free and nobody is
   * queued (when {@link Semaphore.acquire} with that weight would be granted at once), or at once if that is so now.
   *
   * It takes nothing, so it waits beside the queue of acquirers, not in it: it never holds up an acquire made before
   * or after it, and while acquirers keep the permits busy it goes on waiting. Every caller whose weight is free is
   * woken at the same time, in arrival order. The promise settles in a microtask, by when another task may have taken
   * the permits; use {@link Semaphore.acquire} if you need to hold them.
   *
   * @param weight - Permits that must be free, a positive integer no larger than {@link Semaphore.capacity}.
   *   Default `1`.
   * @param opts - `signal` to stop waiting (rejects with `signal.reason`), `timeout` in milliseconds (rejects with a
   *   `DOMException` named `TimeoutError`; `0` means "only if free now").
   * @returns Resolves with nothing. Rejects with `TypeError` / `RangeError` for a bad weight or option (including
   *   `weight > capacity`), with the close reason (default a {@link ClosedError}) if the semaphore is or gets closed.
   *
   * @example Waiting until the pool of connections is idle
   * ```ts
   * import { Semaphore } from 'weftjs/sync';
   *
   * const connections = new Semaphore(4);
   * const busy = await connections.acquire(3);
   * setTimeout(() => busy.release(), 10);
   * await connections.waitForUnlock(4, { timeout: 5_000 }); // all four free
   * console.log(connections.available); // 4
   * ```
   */
  waitForUnlock(weight: number = 1, opts?: WaitOptions): Promise<void> {
    if (weight !== 1) {
      const error = positiveIntegerError(NAMES.waitForUnlock, 'weight', weight);
      if (error !== undefined) return Promise.reject(error);
    }
    return this.#permits.waitForUnlock(weight, opts);
  }

  /**
   * Closes the semaphore: every queued waiter rejects, and so does every later {@link Semaphore.acquire} and
   * {@link Semaphore.run} ({@link Semaphore.tryAcquire} returns `undefined`), as do pending and later
   * {@link Semaphore.waitForUnlock} calls. Permits already held stay valid and can still be released. Idempotent:
   * only the first call has an effect.
   *
   * @param reason - What waiters reject with. Left out (or `undefined`), they reject with a {@link ClosedError}.
   *
   * @example Shutting down
   * ```ts
   * import { ClosedError, Semaphore } from 'weftjs/sync';
   *
   * const sem = new Semaphore(1);
   * const holder = await sem.acquire();
   * const waiting = sem.acquire();
   * sem.close();
   * await waiting.catch((error: unknown) => console.log(error instanceof ClosedError)); // true
   * holder.release();
   * ```
   */
  close(reason?: unknown): void {
    this.#permits.close(reason, reason !== undefined);
  }
}
