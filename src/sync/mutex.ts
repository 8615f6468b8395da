import { invalid } from '../internal/validate.js';
import type { Permit, WaitOptions } from '../types.js';
import { PermitQueue } from './permit-queue.js';

const NAMES = {
  owner: 'Mutex',
  acquire: 'Mutex.lock',
  tryAcquire: 'Mutex.tryLock',
  run: 'Mutex.run',
} as const;

/**
 * A mutual-exclusion lock for async code: one holder at a time, the others wait in arrival order.
 *
 * Use it to keep an async critical section (read-modify-write of a file, a token refresh, a migration) from
 * interleaving with itself. The lock is handed directly to the next waiter on release, so nobody can barge in
 * between. Every wait takes `{ signal, timeout }`.
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
  private readonly permits = new PermitQueue(1, NAMES);

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
    return this.permits.available === 0;
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
    return this.permits.queue.length;
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
    return this.permits.acquire(1, opts);
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
    return this.permits.tryAcquire(1);
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
    return this.permits.run(fn, 1, opts);
  }
}
