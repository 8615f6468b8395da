import { ClosedError } from '../errors.js';
import {
  abortError,
  linkCancel,
  waitOptionsError,
  type Cancellable,
  type CancelLink,
} from '../internal/waiter.js';
import { rejected } from '../internal/promise.js';
import { invalid } from '../internal/validate.js';
import type { WaitOptions } from '../types.js';
import type { SchedulerEngine } from './scheduler-engine.js';
import { engineOfScheduler, Scheduler } from './scheduler.js';
import { spawnTask, type TaskImpl, type TaskOwner } from './task.js';
import type { SpawnOptions, Task, TaskFn } from './types.js';

/**
 * What a {@link scope} body receives: a `spawn` whose tasks belong to the scope, and the scope's signal.
 * Both are safe to destructure.
 *
 * @example
 * ```ts
 * import { scope } from 'weftjs/scheduler';
 *
 * declare function load(url: string, signal: AbortSignal): Promise<string>;
 * const pages = await scope(async ({ spawn }) => {
 *   const a = spawn((ctx) => load('/a', ctx.signal));
 *   const b = spawn((ctx) => load('/b', ctx.signal));
 *   return [await a, await b];
 * });
 * ```
 */
export interface Scope {
  /**
   * Spawns a task that belongs to the scope (same options as {@link Scheduler.spawn}): the scope waits for it, a
   * failure of it cancels the scope, and cancelling the scope cancels it. After the scope has finished, it returns a
   * task already cancelled with a `ClosedError`.
   *
   * @example
   * ```ts
   * import { scope } from 'weftjs/scheduler';
   *
   * await scope(async (s) => {
   *   s.spawn(function* () {
   *     yield;
   *   }, { priority: 'low', name: 'background' });
   * });
   * ```
   */
  spawn: Scheduler['spawn'];
  /**
   * Aborts when the scope is cancelled: a task in it failed, or the scope's `signal` aborted or its `timeout`
   * passed. Pass it to what the body awaits.
   *
   * @example
   * ```ts
   * import { scope } from 'weftjs/scheduler';
   *
   * await scope(async ({ signal }) => {
   *   await fetch('https://example.com/', { signal });
   * });
   * ```
   */
  readonly signal: AbortSignal;
}

/**
 * Options of {@link scope}.
 *
 * @example
 * ```ts
 * import { Scheduler, scope, type ScopeOptions } from 'weftjs/scheduler';
 *
 * const opts: ScopeOptions = { timeout: 5_000, scheduler: new Scheduler({ sliceMs: 10 }) };
 * await scope(async () => {}, opts);
 * ```
 */
export interface ScopeOptions extends WaitOptions {
  /**
   * Where the scope's tasks run. Defaults to a scheduler shared by every scope that names none.
   *
   * @example
   * ```ts
   * import { Scheduler, scope } from 'weftjs/scheduler';
   *
   * const background = new Scheduler({ sliceMs: 2 });
   * await scope(async (s) => s.spawn(() => 'runs on background'), { scheduler: background });
   * ```
   */
  scheduler?: Scheduler | undefined;
}

let sharedScheduler: Scheduler | undefined;

const NONE = Symbol('none');

/**
 * Structured concurrency, as in Python's `asyncio.TaskGroup` or Trio's nursery, with plain async/await: runs
 * `body`, and resolves with its value once the body and every task it spawned through `s.spawn` have settled. No
 * task outlives the scope.
 *
 * - The first failure (the body throws, or a task fails) cancels the scope: `s.signal` aborts and every unfinished
 *   task is cancelled. The scope then rejects with that error, or with an `AggregateError` of all of them when two or
 *   more failed. Tasks cancelled by the scope, and the body rethrowing that cancellation, do not count as failures.
 * - Aborting `opts.signal`, or the `timeout` (a `DOMException` named `TimeoutError`), cancels the scope the same way,
 *   and the scope rejects with that reason (unless tasks failed).
 * - A generator task is closed at its yield point, so its `finally` blocks run before the scope settles; an async
 *   task settles at once and should watch `ctx.signal`.
 *
 * @param body - Receives the {@link Scope}; its return value (or promise) is the scope's value.
 * @param opts - `signal`, `timeout` and `scheduler`.
 * @returns The body's value, once every task of the scope has settled.
 *
 * @example Fail fast: one error cancels the siblings
 * ```ts
 * import { scope } from 'weftjs/scheduler';
 *
 * declare function fetchUser(id: string, signal: AbortSignal): Promise<{ name: string }>;
 * declare function fetchOrders(id: string, signal: AbortSignal): Promise<number[]>;
 *
 * const [user, orders] = await scope(
 *   async ({ spawn }) => {
 *     const user = spawn((ctx) => fetchUser('42', ctx.signal));
 *     const orders = spawn((ctx) => fetchOrders('42', ctx.signal));
 *     return [await user, await orders] as const;
 *   },
 *   { timeout: 2_000 },
 * );
 * ```
 */
export function scope<T>(body: (s: Scope) => T | PromiseLike<T>, opts?: ScopeOptions): Promise<T> {
  if (typeof body !== 'function') {
    return rejected(invalid('scope', 'body must be a function', body));
  }
  const error = waitOptionsError('scope', opts);
  if (error !== undefined) return rejected(error);
  const scheduler = opts?.scheduler;
  if (scheduler !== undefined && !(scheduler instanceof Scheduler)) {
    return rejected(invalid('scope', 'scheduler must be a Scheduler', scheduler));
  }
  return new ScopeRun<T>(engineOfScheduler(scheduler ?? (sharedScheduler ??= new Scheduler())), opts).run(
    body,
  );
}

class ScopeRun<T> implements TaskOwner, Cancellable {
  readonly #controller = new AbortController();
  readonly #children = new Set<TaskImpl>();
  readonly #failures: unknown[] = [];
  /** Its `signal` and `timeout` options. */
  readonly #link: CancelLink | null;
  #value: T | undefined;
  #bodyDone = false;
  #finished = false;
  /** Why the scope was cancelled from outside (its signal or its timeout). */
  #external: unknown = NONE;
  #settle!: (value: T | PromiseLike<T>) => void;

  readonly #engine: SchedulerEngine;

  constructor(engine: SchedulerEngine, opts: ScopeOptions | undefined) {
    this.#engine = engine;
    this.#link = linkCancel(this, opts?.signal, opts?.timeout);
  }

  get operation(): string {
    return 'scope';
  }

  run(body: (s: Scope) => T | PromiseLike<T>): Promise<T> {
    const promise = new Promise<T>((resolve) => (this.#settle = resolve));
    const spawn = <U>(fn: TaskFn<U>, opts?: SpawnOptions): Task<U> =>
      spawnTask(this.#engine, 'Scope.spawn', fn, opts, this);
    let result: T | PromiseLike<T>;
    try {
      result = body({ spawn, signal: this.#controller.signal });
    } catch (error) {
      result = rejected(error);
    }
    Promise.resolve(result).then(
      (value) => {
        this.#value = value;
        this.#bodySettled();
      },
      (error: unknown) => {
        this.#fail(error);
        this.#bodySettled();
      },
    );
    return promise;
  }

  /** The scope's signal aborted, or its timeout passed. */
  cancel(reason: unknown): void {
    if (this.#external === NONE) this.#external = reason;
    this.#cancelAll(reason);
  }

  childSettled(task: TaskImpl): void {
    this.#children.delete(task);
    if (task.status === 'failed') this.#fail(task.outcome);
    this.#check();
  }

  adopt(task: TaskImpl): void {
    const { signal } = this.#controller;
    if (this.#finished) task.cancel(new ClosedError('Scope.spawn: the scope has finished'));
    else {
      this.#children.add(task);
      if (signal.aborted) task.cancel(signal.reason);
    }
  }

  #bodySettled(): void {
    this.#bodyDone = true;
    this.#check();
  }

  #fail(error: unknown): void {
    const { signal } = this.#controller;
    // The scope's own cancellation coming back (the body awaited a task the scope cancelled) is not a failure.
    if (signal.aborted && error === signal.reason) return;
    if (!this.#failures.includes(error)) this.#failures.push(error);
    this.#cancelAll(abortError('scope: cancelled because a task in it failed'));
  }

  #cancelAll(reason: unknown): void {
    if (this.#controller.signal.aborted) return;
    this.#controller.abort(reason);
    for (const child of this.#children) child.cancel(reason);
  }

  #check(): void {
    if (!this.#bodyDone || this.#children.size > 0 || this.#finished) return;
    this.#finished = true;
    this.#link?.disarm();
    const failures = this.#failures;
    if (failures.length > 1) {
      this.#settle(rejected(new AggregateError(failures, `scope: ${failures.length} tasks failed`)));
    } else if (failures.length === 1) this.#settle(rejected(failures[0]));
    else if (this.#external !== NONE) this.#settle(rejected(this.#external));
    else this.#settle(this.#value as T);
  }
}
