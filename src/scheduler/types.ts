/**
 * The public types of the scheduler: what `spawn` takes and returns, and what a running task receives. The
 * implementation is in task.ts (the task state machine), context.ts (the `ctx`) and scheduler-engine.ts.
 */
import type { WaitOptions } from '../types.js';
import type { Scheduler } from './scheduler.js';

/**
 * A task's priority. Higher priority runs first; a task moves up one level for every `agingMs` it has waited for
 * the CPU, so `low` is never starved (see {@link SchedulerOptions.agingMs}).
 *
 * @example
 * ```ts
 * import { Scheduler, type TaskPriority } from 'weftjs/scheduler';
 *
 * const scheduler = new Scheduler();
 * const priority: TaskPriority = document.hidden ? 'low' : 'normal';
 * scheduler.spawn(function* () {
 *   yield;
 * }, { priority });
 * ```
 */
export type TaskPriority = 'high' | 'normal' | 'low';

/**
 * Where a task is in its life: `pending` (spawned, not started), `running` (started, not settled), then one of
 * `done` (returned a value), `failed` (threw) or `cancelled` (by `cancel()`, its `signal` or its `timeout`).
 *
 * @example
 * ```ts
 * import { Scheduler } from 'weftjs/scheduler';
 *
 * const task = new Scheduler().spawn(() => 42);
 * console.log(task.status); // 'pending': spawn never runs the task synchronously
 * await task;
 * console.log(task.status); // 'done'
 * ```
 */
export type TaskStatus = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';

/**
 * The function a task runs, given its {@link TaskContext}. Any of four shapes:
 * - a **generator function**: every bare `yield` is a yield point; `yield somePromise` waits for it without blocking
 *   other tasks and evaluates to its value (or throws its error). Cancellation closes it with `return()`.
 * - an **async generator function**: every `yield` is a yield point.
 * - an **async function**: `await ctx.yield()` is a yield point.
 * - a **plain function**: runs to completion in one go (a unit of work scheduled by priority).
 *
 * The task's value `T` is what the function returns.
 *
 * @example
 * ```ts
 * import { Scheduler, type TaskFn } from 'weftjs/scheduler';
 *
 * const countTo: (n: number) => TaskFn<number> = (n) =>
 *   function* () {
 *     let i = 0;
 *     while (i < n) {
 *       i++;
 *       yield;
 *     }
 *     return i;
 *   };
 * const value: number = await new Scheduler().spawn(countTo(1_000));
 * ```
 */
export type TaskFn<T> = (
  ctx: TaskContext,
) => Generator<unknown, T> | AsyncGenerator<unknown, T> | Promise<T> | T;

/**
 * Options of {@link Scheduler.spawn}.
 *
 * @example
 * ```ts
 * import { Scheduler, type SpawnOptions } from 'weftjs/scheduler';
 *
 * const controller = new AbortController();
 * const opts: SpawnOptions = { priority: 'low', signal: controller.signal, timeout: 10_000, name: 'reindex' };
 * new Scheduler().spawn(function* () {
 *   yield;
 * }, opts);
 * ```
 */
export interface SpawnOptions extends WaitOptions {
  /**
   * `'high'`, `'normal'` (the default) or `'low'`.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const scheduler = new Scheduler();
   * scheduler.spawn(() => console.log('first'), { priority: 'high' });
   * ```
   */
  priority?: TaskPriority | undefined;
  /**
   * Aborting it cancels the task with `signal.reason`. An already-aborted signal gives a task that is cancelled at
   * once and never runs.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const controller = new AbortController();
   * const task = new Scheduler().spawn(function* () {
   *   for (;;) yield;
   * }, { signal: controller.signal });
   * controller.abort(); // task rejects with controller.signal.reason
   * ```
   */
  signal?: AbortSignal | undefined;
  /**
   * Milliseconds from `spawn` after which the task is cancelled with a `DOMException` named `TimeoutError` (time
   * spent waiting for its first slice counts). `0` cancels it at once: a task never completes synchronously.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const task = new Scheduler().spawn(function* () {
   *   for (;;) yield;
   * }, { timeout: 1_000 }); // rejects with a TimeoutError after 1 s
   * ```
   */
  timeout?: number | undefined;
  /**
   * A label for debugging, shown in timeout messages and as {@link Task.name}.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const task = new Scheduler().spawn(() => 1, { name: 'parse-config', timeout: 50 });
   * ```
   */
  name?: string | undefined;
}

/**
 * The handle of a spawned task: awaitable (it resolves with the task's value, or rejects with its error or
 * cancellation reason) and cancellable.
 *
 * A failed task that nobody awaits fails silently (no unhandled rejection is raised on its behalf); use
 * {@link scope} to have failures propagate.
 *
 * @example
 * ```ts
 * import { Scheduler } from 'weftjs/scheduler';
 *
 * const scheduler = new Scheduler();
 * const task = scheduler.spawn(function* () {
 *   let n = 0;
 *   for (;;) {
 *     n++;
 *     yield;
 *   }
 * });
 * setTimeout(() => task.cancel(), 100);
 * try {
 *   await task;
 * } catch (error) {
 *   console.log(task.status, (error as DOMException).name); // 'cancelled' 'AbortError'
 * }
 * ```
 */
export interface Task<T> extends PromiseLike<T> {
  /**
   * Cancels the task: it settles as `'cancelled'`, rejecting with `reason` (default: a `DOMException` named
   * `AbortError`), and its {@link Task.signal} aborts with that reason. A generator task is closed with `return()` at
   * the yield point where it waits, so its `finally` blocks run before it settles (if cleanup throws, the task fails
   * with that error instead). An async task cannot be stopped from outside: it settles at once, its `ctx.signal`
   * aborts, and its next `ctx.yield()` rejects with the reason, so it unwinds. The unsettled children it spawned
   * through {@link TaskContext.spawn} are cancelled with the same reason. Does nothing once the task has settled.
   *
   * @param reason - The rejection; defaults to a `DOMException` named `AbortError`.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const task = new Scheduler().spawn(function* () {
   *   try {
   *     for (;;) yield;
   *   } finally {
   *     console.log('cleaned up');
   *   }
   * });
   * task.cancel(new Error('no longer needed'));
   * ```
   */
  cancel(reason?: unknown): void;
  /**
   * `'pending'`, `'running'`, `'done'`, `'failed'` or `'cancelled'`.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const task = new Scheduler().spawn(async () => 'ok');
   * await task;
   * console.log(task.status); // 'done'
   * ```
   */
  readonly status: TaskStatus;
  /**
   * Aborts when the task is cancelled (by `cancel()`, its `signal` option or its `timeout`), with the cancellation
   * reason. The same signal the task's code sees as `ctx.signal`.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const task = new Scheduler().spawn(async () => 1);
   * task.signal.addEventListener('abort', () => console.log('cancelled:', task.signal.reason));
   * ```
   */
  readonly signal: AbortSignal;
  /**
   * The `name` given to `spawn`, if any.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const task = new Scheduler().spawn(() => 1, { name: 'warm-cache' });
   * console.log(task.name); // 'warm-cache'
   * ```
   */
  readonly name: string | undefined;
  /**
   * The priority the task was spawned with.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const task = new Scheduler().spawn(() => 1, { priority: 'high' });
   * console.log(task.priority); // 'high'
   * ```
   */
  readonly priority: TaskPriority;
}

/**
 * What a running task receives as its argument.
 *
 * @example An async task with explicit yield points
 * ```ts
 * import { Scheduler } from 'weftjs/scheduler';
 *
 * declare const rows: { price: number }[];
 * const total = await new Scheduler().spawn(async (ctx) => {
 *   let sum = 0;
 *   for (const row of rows) {
 *     sum += row.price;
 *     await ctx.yield(); // cheap unless the slice is spent
 *   }
 *   return sum;
 * });
 * ```
 */
export interface TaskContext {
  /**
   * Aborts when the task is cancelled. Pass it to what the task awaits (`fetch(url, { signal: ctx.signal })`).
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const task = new Scheduler().spawn(async ({ signal }) => {
   *   const response = await fetch('https://example.com/data.json', { signal });
   *   return response.json() as Promise<unknown>;
   * });
   * ```
   */
  readonly signal: AbortSignal;
  /**
   * A yield point for async tasks. Resolves at once (one microtask) while the slice lasts; once it is spent (or a
   * task of higher priority is ready) the task parks and resumes in a later slice, after the event loop has served
   * timers and I/O. Rejects with the cancellation reason once the task is cancelled, so the task unwinds. In a
   * generator task use a bare `yield` instead.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * declare function step(i: number): void;
   * await new Scheduler().spawn(async (ctx) => {
   *   for (let i = 0; i < 1_000_000; i++) {
   *     step(i);
   *     await ctx.yield();
   *   }
   * });
   * ```
   */
  yield(): Promise<void>;
  /**
   * True when the next yield point would give way (slice spent, task of higher priority ready, or task cancelled).
   * Counts as a yield point itself and costs about as little; use it to skip the microtask of `await ctx.yield()`.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * declare function step(i: number): void;
   * await new Scheduler().spawn(async (ctx) => {
   *   for (let i = 0; i < 1_000_000; i++) {
   *     step(i);
   *     if (ctx.shouldYield()) await ctx.yield();
   *   }
   * });
   * ```
   */
  shouldYield(): boolean;
  /**
   * Spawns a child of this task on the same scheduler (same arguments as {@link Scheduler.spawn}). Safe to
   * destructure.
   *
   * Cancellation flows down: when this task is cancelled (by `cancel()`, its `signal` or its `timeout`, exactly when
   * {@link TaskContext.signal} aborts), every child it spawned that has not settled yet is cancelled with the same
   * reason, and so are their own children. A child spawned once this task is cancelled (from a `finally` block,
   * say) is cancelled at once. A task that ends otherwise, returning or throwing, leaves its children running:
   * it does not wait for them, and its failure is its own (use {@link scope} to await children and fail together).
   * A child that settles is forgotten by its parent, so a long-lived task may spawn any number of them.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * await new Scheduler().spawn(async ({ spawn }) => {
   *   const parts = [1, 2, 3].map((n) => spawn(() => n * n));
   *   return (await Promise.all(parts)).reduce((a, b) => a + b, 0);
   * });
   * ```
   *
   * @example Cancelling a parent cancels its children
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const scheduler = new Scheduler();
   * const parent = scheduler.spawn(function* ({ spawn }) {
   *   spawn(function* (child) {
   *     child.signal.addEventListener('abort', () => console.log('child cancelled'));
   *     for (;;) yield;
   *   });
   *   for (;;) yield;
   * });
   * setTimeout(() => parent.cancel(), 100); // logs 'child cancelled'
   * ```
   */
  readonly spawn: Scheduler['spawn'];
}
