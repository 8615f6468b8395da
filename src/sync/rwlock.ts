import { Waiter, canCancel, timeoutError, waitOptionsError } from '../internal/waiter.js';
import { ownedPermit, type PermitOwner } from '../internal/permit.js';
import { pendingPromise, type Resolve } from '../internal/promise.js';
import { assertFunction } from '../internal/validate.js';
import { WaitQueue } from '../internal/wait-queue.js';
import type { Permit, WaitOptions } from '../types.js';

const READ = 1;
const WRITE = 2;

/**
 * The common waiter, with neither signal nor timeout: an object literal, whose layout V8 keeps with the code that
 * makes it (see "No class instance per call" in ARCHITECTURE.md). It can never be withdrawn.
 */
interface PlainRWWaiter {
  queueIndex: number;
  readonly write: boolean;
  readonly settle: Resolve<Permit>;
}

/** A waiter that can be aborted or time out. */
class RWWaiter extends Waiter<Permit> {
  constructor(
    private readonly state: RWState,
    readonly write: boolean,
  ) {
    super();
  }
  get operation(): string {
    return this.write ? 'RWLock.write' : 'RWLock.read';
  }
  cancel(reason: unknown): void {
    this.state.withdraw(this);
    this.fail(reason);
  }
}

/** The lock's state, kept apart so that the permit-owner side stays out of the public class. */
class RWState implements PermitOwner {
  readers = 0;
  writing = false;
  readonly queue = new WaitQueue<RWWaiter | PlainRWWaiter>();

  enter(write: boolean, opts: WaitOptions | undefined): Promise<Permit> {
    const where = write ? 'RWLock.write' : 'RWLock.read';
    const error = waitOptionsError(where, opts);
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- signal.reason or an option error
    if (error !== undefined) return Promise.reject(error);
    const permit = write ? this.tryWrite() : this.tryRead();
    if (permit !== undefined) return Promise.resolve(permit);
    if (opts?.timeout === 0) return Promise.reject(timeoutError(where, 0));
    if (!canCancel(opts)) {
      const { promise, resolve } = pendingPromise<Permit>();
      this.queue.push({ queueIndex: -1, write, settle: resolve });
      return promise;
    }
    const waiter = new RWWaiter(this, write);
    this.queue.push(waiter);
    return waiter.wait(opts?.signal, opts?.timeout);
  }

  tryRead(): Permit | undefined {
    if (this.writing || this.queue.length !== 0) return undefined;
    this.readers++;
    return ownedPermit(this, READ);
  }

  tryWrite(): Permit | undefined {
    if (this.writing || this.readers !== 0 || this.queue.length !== 0) return undefined;
    this.writing = true;
    return ownedPermit(this, WRITE);
  }

  releasePermit(kind: number): void {
    if (kind === WRITE) this.writing = false;
    else this.readers--;
    this.admit();
  }

  withdraw(waiter: RWWaiter): void {
    this.queue.remove(waiter);
    this.admit();
  }

  /** A writer at the head enters once the lock is free; readers at the head enter together, up to the next writer. */
  private admit(): void {
    if (this.writing) return;
    let head = this.queue.peek();
    if (head === undefined) return;
    if (head.write) {
      if (this.readers === 0) {
        this.queue.shift();
        this.writing = true;
        grant(head, ownedPermit(this, WRITE));
      }
      return;
    }
    while (head !== undefined && !head.write) {
      this.queue.shift();
      this.readers++;
      grant(head, ownedPermit(this, READ));
      head = this.queue.peek();
    }
  }
}

function grant(waiter: RWWaiter | PlainRWWaiter, permit: Permit): void {
  if (waiter instanceof RWWaiter) waiter.grant(permit);
  else waiter.settle(permit);
}

/**
 * A readers-writer lock: any number of readers together, or one writer alone.
 *
 * Fair by arrival: a queued writer blocks the readers that arrive after it (so a stream of readers cannot starve
 * writers), and when the lock frees up, the readers at the head of the queue enter together. Every wait takes
 * `{ signal, timeout }`; a cancelled waiter leaves the queue at once (a cancelled writer lets the readers queued
 * behind it in, if no writer holds the lock).
 *
 * @example A cache read often and refreshed rarely
 * ```ts
 * import { RWLock } from 'weftjs/sync';
 *
 * const lock = new RWLock();
 * const cache = new Map<string, string>();
 *
 * async function lookup(key: string): Promise<string | undefined> {
 *   return lock.runRead(() => cache.get(key));
 * }
 * async function refresh(entries: Map<string, string>): Promise<void> {
 *   await lock.runWrite(() => {
 *     cache.clear();
 *     for (const [key, value] of entries) cache.set(key, value);
 *   });
 * }
 * ```
 */
export class RWLock {
  readonly #state = new RWState();

  /**
   * Number of read locks held now.
   *
   * @example
   * ```ts
   * import { RWLock } from 'weftjs/sync';
   *
   * const lock = new RWLock();
   * const [a, b] = await Promise.all([lock.read(), lock.read()]);
   * console.log(lock.readers); // 2
   * a.release();
   * b.release();
   * ```
   */
  get readers(): number {
    return this.#state.readers;
  }

  /**
   * Number of write locks held now: `0` or `1`.
   *
   * @example
   * ```ts
   * import { RWLock } from 'weftjs/sync';
   *
   * const lock = new RWLock();
   * const write = await lock.write();
   * console.log(lock.writers); // 1
   * write.release();
   * ```
   */
  get writers(): number {
    return this.#state.writing ? 1 : 0;
  }

  /**
   * Number of callers waiting, readers and writers.
   *
   * @example
   * ```ts
   * import { RWLock } from 'weftjs/sync';
   *
   * const lock = new RWLock();
   * const read = await lock.read();
   * const write = lock.write(); // waits for the reader
   * console.log(lock.pending); // 1
   * read.release();
   * (await write).release();
   * ```
   */
  get pending(): number {
    return this.#state.queue.length;
  }

  /**
   * Waits for a read lock (shared with other readers, never with a writer).
   *
   * @param opts - `signal` to abort the wait, `timeout` in milliseconds (`0`: only if it can be had now).
   * @returns The held read lock; release it once, by hand or with `using`.
   *
   * @example
   * ```ts
   * import { RWLock } from 'weftjs/sync';
   *
   * const lock = new RWLock();
   * {
   *   using _read = await lock.read();
   *   // read shared state; other readers may be here too
   * }
   * ```
   */
  read(opts?: WaitOptions): Promise<Permit> {
    return this.#state.enter(false, opts);
  }

  /**
   * Waits for the write lock (exclusive: no readers, no other writer).
   *
   * @param opts - `signal` to abort the wait, `timeout` in milliseconds (`0`: only if it can be had now).
   * @returns The held write lock; release it once, by hand or with `using`.
   *
   * @example
   * ```ts
   * import { RWLock } from 'weftjs/sync';
   *
   * const lock = new RWLock();
   * {
   *   using _write = await lock.write({ timeout: 1_000 });
   *   // modify shared state; nobody else is here
   * }
   * ```
   */
  write(opts?: WaitOptions): Promise<Permit> {
    return this.#state.enter(true, opts);
  }

  /**
   * Takes a read lock if no writer holds or awaits the lock.
   *
   * @returns The read lock, or `undefined`.
   *
   * @example
   * ```ts
   * import { RWLock } from 'weftjs/sync';
   *
   * const lock = new RWLock();
   * const read = lock.tryRead();
   * read?.release();
   * ```
   */
  tryRead(): Permit | undefined {
    return this.#state.tryRead();
  }

  /**
   * Takes the write lock if nobody holds or awaits the lock.
   *
   * @returns The write lock, or `undefined`.
   *
   * @example
   * ```ts
   * import { RWLock } from 'weftjs/sync';
   *
   * const lock = new RWLock();
   * const write = lock.tryWrite();
   * write?.release();
   * ```
   */
  tryWrite(): Permit | undefined {
    return this.#state.tryWrite();
  }

  /**
   * Runs `fn` holding a read lock and settles with its result; the lock is released however `fn` ends.
   * `fn` always starts asynchronously, in the caller's async context.
   *
   * @param fn - The reading work.
   * @param opts - `signal` / `timeout` for the wait before `fn` starts.
   * @returns `fn`'s result; rejects with a `TypeError` if `fn` is not a function.
   *
   * @example
   * ```ts
   * import { RWLock } from 'weftjs/sync';
   *
   * const lock = new RWLock();
   * const settings = { theme: 'dark' };
   * const theme = await lock.runRead(() => settings.theme);
   * ```
   */
  runRead<T>(fn: () => T | PromiseLike<T>, opts?: WaitOptions): Promise<T> {
    return this.#runHolding(false, fn, opts);
  }

  /**
   * Runs `fn` holding the write lock and settles with its result; the lock is released however `fn` ends.
   * `fn` always starts asynchronously, in the caller's async context.
   *
   * @param fn - The writing work.
   * @param opts - `signal` / `timeout` for the wait before `fn` starts.
   * @returns `fn`'s result; rejects with a `TypeError` if `fn` is not a function.
   *
   * @example
   * ```ts
   * import { RWLock } from 'weftjs/sync';
   *
   * const lock = new RWLock();
   * const settings = { theme: 'dark' };
   * await lock.runWrite(() => {
   *   settings.theme = 'light';
   * });
   * ```
   */
  runWrite<T>(fn: () => T | PromiseLike<T>, opts?: WaitOptions): Promise<T> {
    return this.#runHolding(true, fn, opts);
  }

  async #runHolding<T>(write: boolean, fn: () => T | PromiseLike<T>, opts?: WaitOptions): Promise<T> {
    assertFunction(write ? 'RWLock.runWrite' : 'RWLock.runRead', 'fn', fn);
    const permit = await this.#state.enter(write, opts);
    try {
      return await fn();
    } finally {
      permit.release();
    }
  }
}
