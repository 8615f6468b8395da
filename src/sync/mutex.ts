import { invalid } from '../internal/validate.js';
import type { Permit, WaitOptions } from '../types.js';
import { PermitQueue } from './permit-queue.js';

const NAMES = {
  owner: 'Mutex',
  acquire: 'Mutex.lock',
  tryAcquire: 'Mutex.tryLock',
  run: 'Mutex.run',
  waitForUnlock: 'Mutex.waitForUnlock',
} as const;

/**
 * A mutual-exclusion lock for async code: one holder at a time, the others wait in arrival order.
 *
 * Use it to keep an async critical section (read-modify-write of a file, a token refresh, a migration) from
 * interleaving with itself. The lock is handed directly to the next waiter on release, so nobody can barge in
 * between. Every wait takes `{ signal, timeout }`. {@link Mutex.waitForUnlock} waits until the lock is free without
 * taking it, and {@link Mutex.close} rejects every waiter at shutdown.
 *
 * @example Serialising a read-modify-write
 * ```ts
 * import { Mutex } from 'weftjs/sync';
 *
 * const mutex = new Mutex();
 * let balance = 100;
 * async function withdraw(amount: number): Promise<void> {
 *   await mutex.run(async () => {
 *     const current = balance;
 *     await new Promise((resolve) => setTimeout(resolve, 10)); // an await inside the critical section
 *     balance = current - amount;
 *   });
 * }
 * await Promise.all([withdraw(10), withdraw(20)]);
 * console.log(balance); // 70
 * ```
 */
export class Mutex {
  readonly #permits = new PermitQueue(1, NAMES);

  /**
   * True while someone holds the lock.
   *
   * @example
   * ```ts
   * import { Mutex } from 'weftjs/sync';
   *
   * const mutex = new Mutex();
   * const lock = await mutex.lock();
   * console.log(mutex.locked); // true
   * lock.release();
   * console.log(mutex.locked); // false
   * ```
   */
  get locked(): boolean {
    return this.#permits.available === 0;
  }

  /**
   * Number of callers waiting for the lock.
   *
   * @example
   * ```ts
   * import { Mutex } from 'weftjs/sync';
   *
   * const mutex = new Mutex();
   * const lock = await mutex.lock();
   * const next = mutex.lock();
   * console.log(mutex.pending); // 1
   * lock.release();
   * (await next).release();
   * ```
   */
  get pending(): number {
    return this.#permits.queue.length;
  }

  /**
   * True once {@link Mutex.close} has been called.
   *
   * @example
   * ```ts
   * import { Mutex } from 'weftjs/sync';
   *
   * const mutex = new Mutex();
   * mutex.close();
   * console.log(mutex.closed); // true
   * ```
   */
  get closed(): boolean {
    return this.#permits.isClosed;
  }

  /**
   * Waits for the lock and resolves with a {@link Permit} that unlocks it.
   *
   * @param opts - `signal` to abort the wait (rejects with `signal.reason`), `timeout` in milliseconds (rejects with
   *   a `DOMException` named `TimeoutError`; `0` means "only if free now").
   * @returns The held lock; release it once, by hand or with `using`.
   *
   * @example
   * ```ts
   * import { Mutex } from 'weftjs/sync';
   *
   * const mutex = new Mutex();
   * {
   *   using _lock = await mutex.lock({ timeout: 1_000 });
   *   // critical section
   * }
   * ```
   */
  lock(opts?: WaitOptions): Promise<Permit> {
    return this.#permits.acquire(1, opts);
  }

  /**
   * Takes the lock if it is free and nobody is waiting.
   *
   * @returns The held lock, or `undefined` if it is taken.
   *
   * @example
   * ```ts
   * import { Mutex } from 'weftjs/sync';
   *
   * const mutex = new Mutex();
   * const lock = mutex.tryLock();
   * if (lock !== undefined) {
   *   try {
   *     // critical section
   *   } finally {
   *     lock.release();
   *   }
   * }
   * ```
   */
  tryLock(): Permit | undefined {
    return this.#permits.tryAcquire(1);
  }

  /**
   * Runs `fn` holding the lock and settles with its result; the lock is released when `fn` returns, throws, or its
   * promise settles. `fn` always starts asynchronously, in the caller's async context.
   *
   * @param fn - The critical section.
   * @param opts - `signal` / `timeout` for the wait before `fn` starts (they do not cancel `fn` once it runs).
   * @returns `fn`'s result, or its error; rejects as {@link Mutex.lock} does while waiting, and with a `TypeError`
   *   if `fn` is not a function.
   *
   * @example
   * ```ts
   * import { Mutex } from 'weftjs/sync';
   *
   * const mutex = new Mutex();
   * const lines: string[] = [];
   * async function append(line: string): Promise<number> {
   *   return mutex.run(async () => {
   *     await new Promise((resolve) => setTimeout(resolve, 1)); // e.g. a file write
   *     return lines.push(line);
   *   });
   * }
   * ```
   */
  run<T>(fn: () => T | PromiseLike<T>, opts?: WaitOptions): Promise<T> {
    if (typeof fn !== 'function') {
      return Promise.reject(invalid('Mutex.run', 'fn must be a function', fn));
    }
    return this.#permits.run(fn, 1, opts);
  }

  /**
   * Waits until the mutex is free, without taking it: resolves once nobody holds the lock and nobody waits for it
   * (when {@link Mutex.lock} would succeed at once), or at once if that is so now.
   *
   * It takes nothing, so it waits beside the queue of {@link Mutex.lock} callers, not in it: it never holds up a
   * `lock()` made before or after it, and while callers keep queueing it goes on waiting (the lock passes from holder
   * to holder without being free in between). Every caller waiting for the unlock is woken together. The promise
   * settles in a microtask, by when another task may have taken the lock; use {@link Mutex.lock} (or
   * {@link Mutex.tryLock}) if you need to hold it.
   *
   * @param opts - `signal` to stop waiting (rejects with `signal.reason`), `timeout` in milliseconds (rejects with a
   *   `DOMException` named `TimeoutError`; `0` means "only if free now").
   * @returns Resolves with nothing. Rejects with the close reason (default a {@link ClosedError}) if the mutex is or
   *   gets closed, and with a `TypeError` / `RangeError` for a bad option.
   *
   * @example Waiting for a running migration to finish before reading
   * ```ts
   * import { Mutex } from 'weftjs/sync';
   *
   * const migration = new Mutex();
   * void migration.run(() => new Promise((resolve) => setTimeout(resolve, 50)));
   * await migration.waitForUnlock({ timeout: 5_000 });
   * console.log(migration.locked); // false
   * ```
   */
  waitForUnlock(opts?: WaitOptions): Promise<void> {
    return this.#permits.waitForUnlock(1, opts);
  }

  /**
   * Closes the mutex: every queued {@link Mutex.lock} and {@link Mutex.run} rejects, and so does every later one
   * ({@link Mutex.tryLock} returns `undefined`), as do pending and later {@link Mutex.waitForUnlock} calls. A lock
   * already held stays valid and can still be released. Idempotent: only the first call has an effect.
   *
   * @param reason - What waiters reject with. Left out (or `undefined`), they reject with a {@link ClosedError}.
   *
   * @example Shutting down
   * ```ts
   * import { ClosedError, Mutex } from 'weftjs/sync';
   *
   * const mutex = new Mutex();
   * const held = await mutex.lock();
   * const waiting = mutex.lock();
   * mutex.close();
   * await waiting.catch((error: unknown) => console.log(error instanceof ClosedError)); // true
   * held.release();
   * ```
   */
  close(reason?: unknown): void {
    this.#permits.close(reason, reason !== undefined);
  }
}
