import { assertNonNegativeInteger, invalid, nonNegativeNumberError } from '../internal/validate.js';
import type { ResourceLimits, SpawnOptions, Transport } from './transport.js';

/**
 * Options of {@link WorkerPool}.
 *
 * @example A pool for request handlers: bounded queue, every task limited to 2 s
 * ```ts
 * import { WorkerPool } from 'weftjs/pool';
 *
 * const pool = new WorkerPool({
 *   worker: new URL('./worker.js', import.meta.url),
 *   minThreads: 2,
 *   maxThreads: 4,
 *   maxQueue: 1000,
 *   taskTimeout: 2000,
 * });
 * ```
 */
export interface WorkerPoolOptions {
  /**
   * The worker file: an absolute path, a `file:` URL string, or a `URL` (`new URL('./worker.js', import.meta.url)`).
   * It may be ESM or CommonJS; TypeScript works through a loader (`execArgv: ['--import', 'tsx']`). It must call
   * `expose()` from `weftjs/worker`. In a browser: a `URL`, an absolute URL string or a path from the site's root
   * (`'/workers/w.js'`), started as a module Web Worker (`new Worker(url, { type: 'module' })`).
   */
  worker: string | URL;
  /** Threads kept alive even when idle (started at once). Default `0`. */
  minThreads?: number | undefined;
  /**
   * Most threads at a time. Default: the number of available cores (`os.availableParallelism()`, in a browser
   * `navigator.hardwareConcurrency`).
   */
  maxThreads?: number | undefined;
  /** Milliseconds an idle thread above `minThreads` lives before it is stopped. Default `10_000`; `Infinity` keeps them. */
  idleTimeout?: number | undefined;
  /**
   * Most accepted tasks waiting to start: at most `maxThreads + maxQueue` tasks are accepted at a time, and `run`
   * rejects with `QueueFullError` beyond that. Default `Infinity`.
   */
  maxQueue?: number | undefined;
  /** Default run-time limit of `run` tasks in ms, counted from the task's start (queue time does not count). */
  taskTimeout?: number | undefined;
  /**
   * Milliseconds a worker gets to stop a task that was aborted or timed out (its `this.signal` is aborted at once)
   * before it is terminated and replaced. The caller's promise rejects at once either way. Default `1000`.
   */
  abortGrace?: number | undefined;
  /** Name of the threads (`name #1`, `name #2`, ...), shown in debuggers (threads only). Default `'weft-pool'`. */
  name?: string | undefined;
  /**
   * Node: `execArgv` of the workers (threads or child processes), e.g. `['--import', 'tsx']` for TypeScript workers.
   * Default: the parent's.
   */
  execArgv?: string[] | undefined;
  /** Node: environment of the workers. Default: a copy of the parent's `process.env`. */
  env?: Record<string, string | undefined> | undefined;
  /**
   * Node: heap limits per worker; a worker that exceeds them dies and its task rejects `WorkerCrashedError`. With
   * `runtime: 'process'` they become V8 flags of the child: `maxOldGenerationSizeMb` is `--max-old-space-size`,
   * `maxYoungGenerationSizeMb` sets `--max-semi-space-size` (a third of it), `stackSizeMb` is `--stack-size`;
   * `codeRangeSizeMb` applies to threads only.
   *
   * @example A child process that may use at most 512 MB of heap
   * ```ts
   * import { WorkerPool } from 'weftjs/pool';
   *
   * const pool = new WorkerPool({
   *   worker: new URL('./worker.js', import.meta.url),
   *   runtime: 'process',
   *   resourceLimits: { maxOldGenerationSizeMb: 512 }, // the child runs with --max-old-space-size=512
   * });
   * ```
   */
  resourceLimits?: ResourceLimits | undefined;
  /**
   * What a worker is. `'thread'` (the default): a worker thread (`node:worker_threads`; a module Web Worker in a
   * browser), cheap to start and to talk to, sharing its process. `'process'`: a Node.js child process of its own
   * (`child_process.fork` with `serialization: 'advanced'`), for isolation (a native crash, `process.abort()`, an
   * out-of-memory or a leak takes down only that process) and for code that is not thread-safe or changes process
   * state (`process.chdir`, native addons). The worker file and `expose()` are the same; everything else holds too
   * (abort, timeouts, `maxQueue`, `idleTimeout`, crash handling, `stream`, `stats`), with these differences:
   *
   * - values cross as structured clones through the IPC channel: `transfer` lists copy instead of moving, and a
   *   `SharedArrayBuffer`, a `weftjs/shared` handle or a function rejects with a `TypeError` naming the argument;
   * - the child's stdout and stderr are the parent's; `env` and `execArgv` apply to the child (default: the
   *   parent's), and `resourceLimits` become V8 flags;
   * - a child that dies on its own (`process.exit`, `process.abort`, an uncaught error) rejects only the task it was
   *   running (`WorkerCrashedError` with `exitCode`, or `signal` and the `cause` where known); one killed from
   *   outside (SIGKILL, out of memory, a native crash) cannot say which of its tasks had started, so all the tasks
   *   in flight on it reject, and none runs twice;
   * - children exit when their pool's process goes away (exits, crashes or is killed): none is left behind.
   *
   * In a browser `'process'` throws an `Error` at construction.
   *
   * @example Isolating a native addon that is not thread-safe
   * ```ts
   * import { WorkerPool, WorkerCrashedError } from 'weftjs/pool';
   *
   * await using pool = new WorkerPool({
   *   worker: new URL('./render.js', import.meta.url),
   *   runtime: 'process',
   *   maxThreads: 2,
   *   env: { ...process.env, RENDER_THREADS: '1' },
   * });
   * try {
   *   await pool.run('render', ['scene.json']);
   * } catch (error) {
   *   if (error instanceof WorkerCrashedError) console.log('renderer died', error.signal ?? error.exitCode);
   * }
   * ```
   */
  runtime?: 'thread' | 'process' | undefined;
}

/** The options of a pool after validation and defaults, as its engine takes them. */
export interface EngineOptions {
  worker: URL | string;
  minThreads: number;
  maxThreads: number;
  idleTimeout: number;
  maxQueue: number;
  taskTimeout: number;
  abortGrace: number;
  spawn: SpawnOptions;
}

const WHERE = 'WorkerPool';

function nonNegativeInteger(name: string, value: unknown, infinityAllowed: boolean): number {
  assertNonNegativeInteger(WHERE, name, value, infinityAllowed);
  return value;
}

function milliseconds(name: string, value: unknown): number {
  const error = nonNegativeNumberError(WHERE, `${name} must be a non-negative number of milliseconds`, value);
  if (error !== undefined) throw error;
  return value as number;
}

/** Validates the options, fills in defaults, and throws `TypeError` / `RangeError` naming a bad one. */
export function resolveOptions(options: WorkerPoolOptions, transport: Transport): EngineOptions {
  if (options === null || typeof options !== 'object') {
    throw invalid(WHERE, 'options must be an object with a worker', options);
  }
  const worker = transport.resolve(options.worker);
  const minThreads =
    options.minThreads === undefined ? 0 : nonNegativeInteger('minThreads', options.minThreads, false);
  let maxThreads: number;
  if (options.maxThreads === undefined) {
    maxThreads = Math.max(1, transport.defaultThreads(), minThreads);
  } else {
    maxThreads = nonNegativeInteger('maxThreads', options.maxThreads, false);
    if (maxThreads === 0) throw new RangeError(`${WHERE}: maxThreads must be a positive integer, got 0`);
    if (minThreads > maxThreads) {
      throw new RangeError(
        `${WHERE}: minThreads must not exceed maxThreads (${maxThreads}), got ${minThreads}`,
      );
    }
  }
  const name = options.name ?? 'weft-pool';
  if (typeof name !== 'string') throw invalid(WHERE, 'name must be a string', name);
  const { execArgv, env, resourceLimits } = options;
  if (execArgv !== undefined && (!Array.isArray(execArgv) || execArgv.some((a) => typeof a !== 'string'))) {
    throw invalid(WHERE, 'execArgv must be an array of strings', execArgv);
  }
  if (env !== undefined && (env === null || typeof env !== 'object')) {
    throw invalid(WHERE, 'env must be an object', env);
  }
  if (resourceLimits !== undefined && (resourceLimits === null || typeof resourceLimits !== 'object')) {
    throw invalid(WHERE, 'resourceLimits must be an object', resourceLimits);
  }
  return {
    worker,
    minThreads,
    maxThreads,
    idleTimeout:
      options.idleTimeout === undefined ? 10_000 : milliseconds('idleTimeout', options.idleTimeout),
    maxQueue:
      options.maxQueue === undefined ? Infinity : nonNegativeInteger('maxQueue', options.maxQueue, true),
    taskTimeout:
      options.taskTimeout === undefined ? Infinity : milliseconds('taskTimeout', options.taskTimeout),
    abortGrace: options.abortGrace === undefined ? 1000 : milliseconds('abortGrace', options.abortGrace),
    spawn: { name, execArgv, env, resourceLimits },
  };
}
