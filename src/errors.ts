/**
 * The error classes weft throws for conditions callers catch.
 *
 * Bad arguments use the built-in `TypeError` / `RangeError`; abort and timeout reject with the signal's reason or a
 * `DOMException` named `AbortError` / `TimeoutError`, exactly as `fetch` and `AbortSignal.timeout` do. Everything
 * below is one class shared by every entry point, so `instanceof` works wherever the error came from.
 *
 * @module
 */

/**
 * Thrown (or used as a rejection) when a primitive has been closed: a `Semaphore` after `close()`, a `Channel`
 * after `close()`, a `WorkerPool` after `close()`.
 *
 * @example Telling a shutdown apart from a failure
 * ```ts
 * import { ClosedError, Semaphore } from 'weftjs';
 *
 * const sem = new Semaphore(1);
 * sem.close();
 * try {
 *   await sem.acquire();
 * } catch (error) {
 *   if (error instanceof ClosedError) console.log('shutting down');
 * }
 * ```
 */
export class ClosedError extends Error {
  /**
   * @param message - What was closed.
   * @param options - Standard error options (`cause`).
   */
  constructor(message = 'closed', options?: ErrorOptions) {
    super(message, options);
    this.name = 'ClosedError';
  }
}

/**
 * A `send` on a closed channel, or a `receive` on a channel that is closed and drained.
 *
 * @example
 * ```ts
 * import { Channel, ChannelClosedError } from 'weftjs/channel';
 *
 * const ch = new Channel<number>(1);
 * ch.close();
 * await ch.send(1).catch((error: unknown) => {
 *   console.log(error instanceof ChannelClosedError); // true
 * });
 * ```
 */
export class ChannelClosedError extends ClosedError {
  /**
   * @param message - Defaults to `'channel closed'`.
   * @param options - Standard error options (`cause`).
   */
  constructor(message = 'channel closed', options?: ErrorOptions) {
    super(message, options);
    this.name = 'ChannelClosedError';
  }
}

/**
 * A task submitted to a `WorkerPool` after `close()`, or a task dropped by `close({ force: true })`.
 *
 * @example
 * ```ts
 * import { PoolClosedError, WorkerPool } from 'weftjs/pool';
 *
 * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
 * await pool.close();
 * await pool.run('fib', [10]).catch((error: unknown) => {
 *   console.log(error instanceof PoolClosedError); // true
 * });
 * ```
 */
export class PoolClosedError extends ClosedError {
  /**
   * @param message - Defaults to `'pool closed'`.
   * @param options - Standard error options (`cause`).
   */
  constructor(message = 'pool closed', options?: ErrorOptions) {
    super(message, options);
    this.name = 'PoolClosedError';
  }
}

/**
 * A bounded queue refused a new entry (for example `WorkerPool` with `maxQueue` reached). The entry was never
 * accepted, so nothing needs cancelling.
 *
 * @example
 * ```ts
 * import { QueueFullError, WorkerPool } from 'weftjs/pool';
 *
 * declare const image: Uint8Array;
 * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url), maxQueue: 100 });
 * try {
 *   await pool.run('resize', [image]);
 * } catch (error) {
 *   if (error instanceof QueueFullError) console.log('busy, try later');
 * }
 * ```
 */
export class QueueFullError extends Error {
  /**
   * @param message - Defaults to `'queue full'`.
   * @param options - Standard error options (`cause`).
   */
  constructor(message = 'queue full', options?: ErrorOptions) {
    super(message, options);
    this.name = 'QueueFullError';
  }
}

/**
 * Options of {@link WorkerCrashedError}.
 *
 * @example
 * ```ts
 * import { WorkerCrashedError, type WorkerCrashedErrorOptions } from 'weftjs';
 *
 * const options: WorkerCrashedErrorOptions = { cause: new Error('out of memory'), exitCode: 1 };
 * console.log(new WorkerCrashedError('worker died', options).exitCode); // 1
 * ```
 */
export interface WorkerCrashedErrorOptions extends ErrorOptions {
  /** The worker's exit code, where known. */
  exitCode?: number | undefined;
  /** The signal that killed the worker's process (`'SIGKILL'`, `'SIGABRT'`, ...), where known (`runtime: 'process'`). */
  signal?: string | undefined;
}

/**
 * The worker running a task died (uncaught exception, `process.exit`, out of memory, a signal, or terminated after
 * ignoring an abort). Only the tasks in flight on that worker reject with it; the pool replaces the worker.
 *
 * @example
 * ```ts
 * import { WorkerCrashedError, WorkerPool } from 'weftjs/pool';
 *
 * declare const input: string;
 * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
 * try {
 *   await pool.run('parse', [input]);
 * } catch (error) {
 *   if (error instanceof WorkerCrashedError) console.log('worker died', error.exitCode ?? error.signal, error.cause);
 * }
 * ```
 */
export class WorkerCrashedError extends Error {
  /** The worker's exit code, where known. */
  readonly exitCode: number | undefined;
  /** The signal that killed the worker's process, where known (`runtime: 'process'`). */
  readonly signal: string | undefined;

  /**
   * @param message - What happened.
   * @param options - `cause` (the worker's error, if any), `exitCode` and `signal`.
   */
  constructor(message = 'worker crashed', options?: WorkerCrashedErrorOptions) {
    super(message, options);
    this.name = 'WorkerCrashedError';
    this.exitCode = options?.exitCode;
    this.signal = options?.signal;
  }
}

/**
 * A `weftjs/redis` permit whose lease can no longer be guaranteed: its process could not renew it in time (paused,
 * partitioned from Redis, Redis unreachable or restarted), so another process may be granted the same permits.
 * `permit.signal` aborts with it as the reason; stop the work the permit protected.
 *
 * @example Stopping protected work when the lease is lost
 * ```ts
 * import Redis from 'ioredis';
 * import { LeaseLostError } from 'weftjs';
 * import { RedisMutex } from 'weftjs/redis';
 *
 * declare function copyRows(signal: AbortSignal): Promise<void>;
 * const mutex = new RedisMutex(new Redis(), 'nightly-copy', { lease: 10_000 });
 * await using lock = await mutex.lock();
 * try {
 *   await copyRows(lock.signal);
 * } catch (error) {
 *   if (lock.signal.reason instanceof LeaseLostError) console.log('another process may hold the lock now');
 *   throw error;
 * }
 * ```
 */
export class LeaseLostError extends Error {
  /**
   * @param message - Defaults to `'lease lost'`.
   * @param options - Standard error options (`cause`: the Redis error that kept the lease from being renewed).
   */
  constructor(message = 'lease lost', options?: ErrorOptions) {
    super(message, options);
    this.name = 'LeaseLostError';
  }
}
