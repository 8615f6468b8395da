import { pendingPromise, rejected } from '../internal/promise.js';
import { STREAM_WINDOW } from './protocol.js';
import type { PoolTask } from './pool-task.js';

/** Starts the task behind a reader on its first `next()`; returns the task, or the error to reject with. */
export type StreamStarter = (reader: StreamReader<unknown>) => PoolTask | { error: unknown };

/** Stops a running stream early and resolves once its worker has let go of it. */
export type StreamStopper = (task: PoolTask) => void;

/** A pending `next()`: its promise's resolve function (a failure resolves it with a rejected promise). */
type PendingRead = (result: IteratorResult<never> | Promise<never>) => void;

/**
 * What `WorkerPool.stream` returns: an async iterator of the values a worker generator yields. `return()` (called by
 * `break` in `for await`) stops the generator in the worker and resolves once it has stopped.
 *
 * @typeParam R - The type of the yielded values.
 *
 * @example Taking the first ten values
 * ```ts
 * import { WorkerPool, type TaskStream } from 'weftjs/pool';
 *
 * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
 * const primes: TaskStream<number> = pool.stream<number>('primes');
 * const first: number[] = [];
 * for await (const p of primes) {
 *   first.push(p);
 *   if (first.length === 10) break;
 * }
 * ```
 */
export interface TaskStream<R> extends AsyncIterableIterator<R, undefined, undefined> {
  /**
   * Takes the next value, waiting for the worker if none is buffered. Starts the task on the first call.
   *
   * @returns The next value, or `{ done: true }` once the generator finished (or was stopped).
   *
   * @example
   * ```ts
   * import { WorkerPool } from 'weftjs/pool';
   *
   * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
   * const first = await pool.stream<number>('count', [3]).next(); // { done: false, value: 1 }
   * ```
   */
  next(): Promise<IteratorResult<R, undefined>>;
  /**
   * Stops the stream early: the worker generator's `finally` blocks run and its `this.signal` is aborted. Resolves
   * once the worker has let go of it (at worst after the pool's `abortGrace`, when the worker is replaced).
   *
   * @returns `{ done: true, value: undefined }`.
   *
   * @example
   * ```ts
   * import { WorkerPool } from 'weftjs/pool';
   *
   * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
   * const stream = pool.stream<number>('count', [1_000_000]);
   * await stream.next();
   * await stream.return(); // the generator in the worker has finished its cleanup
   * ```
   */
  return(): Promise<IteratorResult<R, undefined>>;
  /**
   * The stream itself, so it works in `for await`.
   *
   * @returns This stream.
   *
   * @example
   * ```ts
   * import { WorkerPool } from 'weftjs/pool';
   *
   * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
   * for await (const n of pool.stream<number>('count', [3])) console.log(n);
   * ```
   */
  [Symbol.asyncIterator](): TaskStream<R>;
}

/**
 * The consumer side of `WorkerPool.stream`: an async iterator fed by its task's yielded values. The worker may run
 * ahead of the consumer by at most {@link STREAM_WINDOW} values; credit is granted back as values are taken.
 */
export class StreamReader<R> implements TaskStream<R> {
  private task: PoolTask | undefined = undefined;
  private started = false;
  /** Values received and not yet taken, from `head`. */
  private values: unknown[] = [];
  private head = 0;
  /** Pending `next()` calls, from `readHead` (more than one only when the consumer does not await each). */
  private reads: PendingRead[] = [];
  private readHead = 0;
  /** No more values will arrive (the stream ended, failed, or was stopped). */
  private ended = false;
  private failed = false;
  private failure: unknown = undefined;
  /** Values taken since credit was last granted. */
  private taken = 0;
  private settled: Promise<void> | undefined = undefined;

  constructor(
    private readonly begin: StreamStarter,
    private readonly stop: StreamStopper,
    private readonly credit: (task: PoolTask, values: number) => void,
  ) {}

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<R, undefined>> {
    if (!this.started) this.start();
    if (this.head < this.values.length) return Promise.resolve({ done: false, value: this.take() as R });
    if (this.failed) {
      this.failed = false;
      const failure = this.failure;
      this.failure = undefined;
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- rethrows what the worker threw
      return Promise.reject(failure);
    }
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    const read = pendingPromise<IteratorResult<R, undefined>>();
    this.reads.push(read.resolve as PendingRead);
    return read.promise;
  }

  /** Stops the stream (a `break` out of `for await` calls this) and resolves once the worker's generator ended. */
  async return(): Promise<IteratorResult<R, undefined>> {
    this.started = true;
    this.values = [];
    this.head = 0;
    this.failed = false;
    this.failure = undefined;
    const wasEnded = this.ended;
    this.ended = true;
    this.resolveReads();
    const task = this.task;
    if (!wasEnded && task !== undefined) this.stop(task);
    if (this.settled !== undefined) await this.settled;
    return { done: true, value: undefined };
  }

  private start(): void {
    this.started = true;
    const started = this.begin(this);
    if (!('error' in started)) {
      this.task = started;
      return;
    }
    this.ended = true;
    this.failed = true;
    this.failure = started.error;
  }

  /** Wires the task's completion to this reader (called by the engine once the task is accepted). */
  attach(completion: Promise<unknown>): void {
    this.settled = completion.then(
      () => this.end(),
      (error: unknown) => this.fail(error),
    );
  }

  /** A value from the worker. */
  push(value: unknown): void {
    if (this.ended) return;
    const read = this.nextRead();
    if (read !== undefined) {
      this.grant();
      read({ done: false, value: value as never });
    } else {
      this.values.push(value);
    }
  }

  private take(): unknown {
    const value = this.values[this.head];
    this.values[this.head++] = undefined;
    if (this.head === this.values.length) {
      this.values.length = 0;
      this.head = 0;
    }
    this.grant();
    return value;
  }

  private grant(): void {
    if (++this.taken >= STREAM_WINDOW >> 1 && this.task !== undefined && !this.ended) {
      this.credit(this.task, this.taken);
      this.taken = 0;
    }
  }

  private end(): void {
    this.ended = true;
    this.resolveReads();
  }

  private fail(error: unknown): void {
    if (this.ended) return;
    this.ended = true;
    const read = this.nextRead();
    if (read !== undefined) read(rejected(error));
    else {
      this.failed = true;
      this.failure = error;
    }
    this.resolveReads();
  }

  private nextRead(): PendingRead | undefined {
    if (this.readHead === this.reads.length) return undefined;
    const read = this.reads[this.readHead++];
    if (this.readHead === this.reads.length) {
      this.reads.length = 0;
      this.readHead = 0;
    }
    return read;
  }

  /** Drops values not yet taken (the stream was aborted: the consumer should not see more). */
  discard(): void {
    this.values = [];
    this.head = 0;
  }

  private resolveReads(): void {
    for (let read = this.nextRead(); read !== undefined; read = this.nextRead()) {
      read({ done: true, value: undefined });
    }
  }
}
