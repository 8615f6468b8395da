import { waitOptionsError } from '../internal/waiter.js';
import { ignore } from '../internal/promise.js';
import { invalid } from '../internal/validate.js';
import { QueueFullError } from '../errors.js';
import type { WaitOptions } from '../types.js';
import type { WorkerApi } from './api.js';
import { PoolEngine } from './pool-engine.js';
import { resolveOptions, type WorkerPoolOptions } from './options.js';
import { platformTransport } from './platform.js';
import { MODE_RUN, MODE_STREAM, type TaskMode } from './protocol.js';
import type { PoolStats } from './stats.js';
import { StreamReader, type TaskStream } from './stream.js';
import { PoolTask } from './pool-task.js';

/**
 * Options of {@link WorkerPool.run}.
 *
 * @example Transferring a buffer instead of copying it
 * ```ts
 * import { WorkerPool } from 'weftjs/pool';
 *
 * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
 * const bytes = new Uint8Array(1 << 20);
 * const digest = await pool.run<string>('sha256', [bytes], { transfer: [bytes.buffer], timeout: 1000 });
 * ```
 */
export interface PoolRunOptions extends WaitOptions {
  /** Objects in `args` to move to the worker instead of copying (`ArrayBuffer`, `MessagePort`, ...). */
  transfer?: readonly Transferable[] | undefined;
}

/**
 * Options of {@link WorkerPool.close}.
 *
 * @example Shutting down at once
 * ```ts
 * import { WorkerPool } from 'weftjs/pool';
 *
 * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
 * process.once('SIGTERM', () => void pool.close({ force: true }));
 * ```
 */
export interface PoolCloseOptions {
  /** Reject queued and running tasks with `PoolClosedError` and terminate the workers now. Default `false`. */
  force?: boolean | undefined;
}

/**
 * A pool of worker threads for CPU-bound work. Tasks name a function the worker file exposed (with `expose()` from
 * `weftjs/worker`) and its arguments; they queue in FIFO order, run one at a time per worker, and settle exactly once.
 *
 * Small tasks are sent in batches and pipelined a few deep per worker (the depth adapts to how long tasks run);
 * a worker that goes idle takes over tasks another worker has not started yet, so one long task does not hold short
 * ones hostage. A worker that crashes rejects only its running task with `WorkerCrashedError` and is replaced.
 *
 * @example
 * ```ts
 * import { WorkerPool } from 'weftjs/pool';
 *
 * await using pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
 * const results = await Promise.all([30, 31, 32].map((n) => pool.run<number>('fib', [n])));
 * console.log(results, pool.stats.completed);
 * ```
 */
export class WorkerPool implements AsyncDisposable {
  readonly #engine: PoolEngine;
  /** The proxy `api()` returns when called without options, made once. */
  #defaultApi: unknown = undefined;

  /**
   * Creates the pool and starts `minThreads` workers; others start on demand.
   *
   * @param options - The worker file and the pool's limits; see {@link WorkerPoolOptions}.
   * @throws `TypeError` / `RangeError` naming an invalid option.
   *
   * @example
   * ```ts
   * import { WorkerPool } from 'weftjs/pool';
   *
   * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url), maxThreads: 4 });
   * ```
   */
  constructor(options: WorkerPoolOptions) {
    const transport = platformTransport((options as WorkerPoolOptions | null | undefined)?.runtime);
    this.#engine = new PoolEngine(transport, resolveOptions(options, transport));
  }

  /**
   * Runs the exposed function `name` with `args` on a worker and resolves with its result (awaited if it returned
   * a promise). Arguments and result are copied with the structured clone algorithm (listed `transfer` objects are
   * moved instead).
   *
   * Rejects with the function's error; `WorkerCrashedError` if its worker died; the signal's reason on abort; a
   * `DOMException` named `TimeoutError` when `timeout` (default: the pool's `taskTimeout`) ms passed since the task
   * started; `QueueFullError` when `maxQueue` is reached; `PoolClosedError` after `close()`; `RangeError` for a name
   * the worker does not expose; `DataCloneError` for arguments that cannot be cloned. Aborting a queued task removes
   * it from the queue; aborting a running one aborts `this.signal` in the worker.
   *
   * @typeParam R - The result type (see {@link WorkerPool.api} for checked types).
   * @param name - An exposed function.
   * @param args - Its arguments. Default `[]`.
   * @param options - `signal`, `timeout` and `transfer`.
   * @returns The function's result.
   *
   * @example
   * ```ts
   * import { WorkerPool } from 'weftjs/pool';
   *
   * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
   * const n = await pool.run<number>('fib', [30], { timeout: 5000 });
   * ```
   */
  run<R = unknown>(name: string, args?: readonly unknown[], options?: PoolRunOptions): Promise<R> {
    const task = this.#task('run', name, args, options, MODE_RUN);
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- an abort reason may be anything
    if (!(task instanceof PoolTask)) return Promise.reject(task.error);
    const promise = task.wait(options?.signal, undefined) as Promise<R>;
    this.#engine.submit(task);
    return promise;
  }

  /**
   * Runs the exposed generator (or async generator) function `name` on a worker and yields its values as they
   * come. The task starts on the first `next()`. Backpressure: the worker runs at most a few values ahead of the
   * consumer. Leaving the loop early (`break`, `return`, a throw) stops the generator in the worker (its `finally`
   * blocks run, and `this.signal` is aborted) and returns once it has stopped.
   *
   * The stream holds its worker until it ends. Errors are those of {@link WorkerPool.run}, raised by `next()`;
   * `timeout` bounds the whole stream from its start (the pool's `taskTimeout` does not apply).
   *
   * @typeParam R - The type of the yielded values.
   * @param name - An exposed generator function.
   * @param args - Its arguments. Default `[]`.
   * @param options - `signal` and `timeout`.
   * @returns An async iterator of the values.
   *
   * @example Reading lines parsed in a worker
   * ```ts
   * import { WorkerPool } from 'weftjs/pool';
   *
   * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
   * for await (const row of pool.stream<string[]>('parseCsv', ['/data/big.csv'])) {
   *   if (row[0] === 'END') break; // stops the generator in the worker
   * }
   * ```
   */
  stream<R = unknown>(name: string, args?: readonly unknown[], options?: WaitOptions): TaskStream<R> {
    const engine = this.#engine;
    return new StreamReader<R>(
      (reader) => {
        const task = this.#task('stream', name, args, options, MODE_STREAM);
        if (!(task instanceof PoolTask)) return task;
        task.reader = reader;
        reader.attach(task.wait(options?.signal, undefined));
        engine.submit(task);
        return task;
      },
      (task) => engine.stopStream(task),
      (task, values) => engine.credit(task, values),
    );
  }

  /** Validates a call and builds its task, or returns the error to reject with. */
  #task(
    method: string,
    name: unknown,
    args: unknown,
    options: PoolRunOptions | undefined,
    mode: TaskMode,
  ): PoolTask | { error: unknown } {
    const where = `WorkerPool.${method}`;
    if (typeof name !== 'string') return { error: invalid(where, 'name must be a string', name) };
    if (args !== undefined && !Array.isArray(args)) {
      return { error: invalid(where, 'args must be an array', args) };
    }
    const optionsError = waitOptionsError(where, options);
    if (optionsError !== undefined) return { error: optionsError };
    const transfer = options?.transfer;
    if (transfer !== undefined && !Array.isArray(transfer)) {
      return { error: invalid(where, 'transfer must be an array', transfer) };
    }
    const engine = this.#engine;
    const refusal = engine.refusal();
    if (refusal !== undefined) return { error: refusal };
    if (engine.isFull()) return { error: new QueueFullError(`${where}: the queue is full`) };
    const timeout = options?.timeout ?? (mode === MODE_RUN ? this.#engine.taskTimeout : Infinity);
    return new PoolTask(
      engine,
      name,
      (args as unknown[] | undefined) ?? [],
      mode,
      timeout,
      transfer,
      performance.now(),
    );
  }

  /**
   * A typed proxy of the worker's functions: `api.fib(30)` is `run('fib', [30])` with the argument and result types
   * of the worker module, and generator functions become `stream` calls. Each call uses `options`.
   *
   * @typeParam M - The worker module's type (`typeof import('./worker.js')`) or the type of what it passed to
   *   `expose()`.
   * @param options - `signal`, `timeout` and `transfer` applied to every call made through this proxy.
   * @returns The proxy.
   *
   * @example
   * ```ts
   * import { WorkerPool } from 'weftjs/pool';
   *
   * // In an application: pool.api<typeof import('./worker.js')>()
   * interface Fns {
   *   fib(n: number): number;
   *   count(to: number): AsyncGenerator<number>;
   * }
   *
   * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
   * const worker = pool.api<Fns>();
   * const n = await worker.fib(30); // number, checked
   * for await (const i of worker.count(3)) console.log(i);
   * ```
   */
  api<M extends object>(options?: PoolRunOptions): WorkerApi<M> {
    if (options === undefined) {
      if (this.#defaultApi !== undefined) return this.#defaultApi as WorkerApi<M>;
    }
    const methods = new Map<string, (...args: unknown[]) => unknown>();
    const proxy = new Proxy(
      {},
      {
        get: (_target, key) => {
          if (typeof key !== 'string' || key === 'then') return undefined;
          let method = methods.get(key);
          if (method === undefined) {
            method = (...args: unknown[]) => this.#call(key, args, options);
            methods.set(key, method);
          }
          return method;
        },
      },
    ) as WorkerApi<M>;
    if (options === undefined) this.#defaultApi = proxy;
    return proxy;
  }

  /** A proxy call: `run` or `stream` by the function's kind, waiting for the first worker if it is not known. */
  #call(name: string, args: unknown[], options: PoolRunOptions | undefined): unknown {
    const engine = this.#engine;
    const isGenerator = engine.isGenerator(name);
    if (isGenerator === true) return this.stream(name, args, options);
    if (isGenerator === false) return this.run(name, args, options);
    const promise = engine
      .whenKindsKnown()
      .then(() => (engine.isGenerator(name) === true ? undefined : this.run(name, args, options)));
    return Object.assign(promise, {
      [Symbol.asyncIterator]: () => {
        promise.catch(ignore);
        return this.stream(name, args, options);
      },
    });
  }

  /**
   * Stops the pool. New tasks reject with `PoolClosedError`. Without `force`, queued and running tasks finish
   * first; with `force: true`, they reject with `PoolClosedError` at once. Resolves once every worker has exited.
   * Calling it again returns the same promise (and `force` still applies).
   *
   * @param options - `force`.
   * @returns Resolves when the workers have exited.
   *
   * @example
   * ```ts
   * import { WorkerPool } from 'weftjs/pool';
   *
   * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
   * const pending = pool.run('fib', [30]);
   * await pool.close(); // waits for `pending`
   * ```
   */
  close(options?: PoolCloseOptions): Promise<void> {
    if (options !== undefined && (options === null || typeof options !== 'object')) {
      return Promise.reject(invalid('WorkerPool.close', 'options must be an object', options));
    }
    return this.#engine.close(options?.force === true);
  }

  /**
   * Same as `close()`, for `await using pool = new WorkerPool(...)`.
   *
   * @returns Resolves when the workers have exited.
   *
   * @example
   * ```ts
   * import { WorkerPool } from 'weftjs/pool';
   *
   * {
   *   await using pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
   *   await pool.run('fib', [20]);
   * } // closed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /**
   * A snapshot of the pool: threads, busy threads, queued tasks, counters and timings. See {@link PoolStats}.
   *
   * @example
   * ```ts
   * import { WorkerPool } from 'weftjs/pool';
   *
   * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
   * console.log(pool.stats.queued, pool.stats.runTime.p99);
   * ```
   */
  get stats(): PoolStats {
    return this.#engine.stats();
  }
}
