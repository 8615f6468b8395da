import { abortError } from '../internal/waiter.js';
import { assertPositiveInteger, invalid } from '../internal/validate.js';
import { SchedulerEngine } from './scheduler-engine.js';
import { spawnTask } from './task.js';
import type { SpawnOptions, Task, TaskFn } from './types.js';

/**
 * Options of {@link Scheduler}.
 *
 * @example
 * ```ts
 * import { Scheduler, type SchedulerOptions } from 'weftjs/scheduler';
 *
 * const opts: SchedulerOptions = { sliceMs: 8, agingMs: 250 };
 * const scheduler = new Scheduler(opts);
 * ```
 */
export interface SchedulerOptions {
  /**
   * The time budget of a slice, in milliseconds (default 5). Tasks run until it is spent, then control goes back to
   * the event loop, so timers and I/O wait at most about this long. Smaller is more responsive; larger wastes less
   * time switching (each slice boundary costs a few microseconds).
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const scheduler = new Scheduler({ sliceMs: 10 });
   * ```
   */
  sliceMs?: number | undefined;
  /**
   * Aging, in milliseconds (default 100): a task waiting for the CPU moves up one priority level for every `agingMs`
   * it has waited, so `low` work waits at most about `2 * agingMs` behind a stream of `high` work, then gets a turn.
   * `Infinity` turns aging off (strict priorities).
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const strict = new Scheduler({ agingMs: Infinity });
   * ```
   */
  agingMs?: number | undefined;
  /**
   * The operation budget: at most this many yield points per slice, whatever the clock says (default 100000). It
   * keeps near-free yield points from running far past the slice where the clock is coarse (browsers round
   * `performance.now()`), and bounds a slice even if the clock stands still.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const scheduler = new Scheduler({ sliceMs: 5, sliceYields: 20_000 });
   * ```
   */
  sliceYields?: number | undefined;
}

/**
 * A snapshot of a {@link Scheduler}'s counters, to tune `sliceMs` and spot tasks with too few yield points.
 *
 * @example
 * ```ts
 * import { Scheduler } from 'weftjs/scheduler';
 *
 * const scheduler = new Scheduler();
 * await scheduler.spawn(function* () {
 *   for (let i = 0; i < 1e6; i++) yield;
 * });
 * const { slices, meanSliceMs, maxSliceMs, overruns } = scheduler.stats;
 * console.log(`${slices} slices, mean ${meanSliceMs.toFixed(1)} ms, longest ${maxSliceMs.toFixed(1)} ms`);
 * if (overruns > 0) console.log('some task does too much work between two yield points');
 * ```
 */
export interface SchedulerStats {
  /**
   * Tasks spawned.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * console.log(new Scheduler().stats.spawned); // 0
   * ```
   */
  readonly spawned: number;
  /**
   * Tasks that returned a value.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const scheduler = new Scheduler();
   * await scheduler.spawn(() => 1);
   * console.log(scheduler.stats.completed); // 1
   * ```
   */
  readonly completed: number;
  /**
   * Tasks that threw (or whose cleanup threw after a cancel).
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const scheduler = new Scheduler();
   * await scheduler.spawn(() => JSON.parse('{')).then(undefined, () => {});
   * console.log(scheduler.stats.failed); // 1
   * ```
   */
  readonly failed: number;
  /**
   * Tasks cancelled (by `cancel()`, a signal, a timeout, or disposal).
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const scheduler = new Scheduler();
   * scheduler.spawn(() => 1).cancel();
   * console.log(scheduler.stats.cancelled); // 1
   * ```
   */
  readonly cancelled: number;
  /**
   * Tasks spawned and not yet settled.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const scheduler = new Scheduler();
   * scheduler.spawn(() => 1);
   * console.log(scheduler.stats.active); // 1
   * ```
   */
  readonly active: number;
  /**
   * Tasks waiting for the CPU right now (not started yet, or ready to resume).
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const scheduler = new Scheduler();
   * scheduler.spawn(() => 1);
   * console.log(scheduler.stats.queued); // 1: it starts in the next slice
   * ```
   */
  readonly queued: number;
  /**
   * Slices run (each starts in a macrotask of its own).
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const scheduler = new Scheduler({ sliceMs: 2 });
   * await scheduler.spawn(function* () {
   *   const end = performance.now() + 20;
   *   while (performance.now() < end) yield;
   * });
   * console.log(scheduler.stats.slices); // about 10
   * ```
   */
  readonly slices: number;
  /**
   * Yield points passed (a task starting or resuming counts as one).
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const scheduler = new Scheduler();
   * await scheduler.spawn(function* () {
   *   for (let i = 0; i < 100; i++) yield;
   * });
   * console.log(scheduler.stats.yields); // about 100
   * ```
   */
  readonly yields: number;
  /**
   * Total time spent inside slices, in milliseconds.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const scheduler = new Scheduler();
   * console.log(`${scheduler.stats.busyMs.toFixed(1)} ms of CPU on this thread`);
   * ```
   */
  readonly busyMs: number;
  /**
   * The mean slice length in milliseconds (`busyMs / slices`); near `sliceMs` while tasks are CPU-bound.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const scheduler = new Scheduler();
   * console.log(scheduler.stats.meanSliceMs.toFixed(2));
   * ```
   */
  readonly meanSliceMs: number;
  /**
   * The longest slice, in milliseconds: the worst event-loop delay the scheduler caused.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const scheduler = new Scheduler({ sliceMs: 5 });
   * if (scheduler.stats.maxSliceMs > 50) console.warn('a task blocked the event loop for over 50 ms');
   * ```
   */
  readonly maxSliceMs: number;
  /**
   * Slices that lasted more than twice `sliceMs`: some task does too much work between two yield points.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const scheduler = new Scheduler();
   * if (scheduler.stats.overruns > 0) console.warn('add yield points to the task loops');
   * ```
   */
  readonly overruns: number;
}

function numberOption(
  where: string,
  name: string,
  value: unknown,
  fallback: number,
  infinite: boolean,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number') throw invalid(where, `${name} must be a positive number`, value);
  if (!(value > 0) || (!infinite && value === Infinity)) {
    throw invalid(where, `${name} must be a positive${infinite ? '' : ' finite'} number`, value, true);
  }
  return value;
}

let engineOf: (scheduler: Scheduler) => SchedulerEngine;

/**
 * The engine behind a scheduler, for `scope`.
 * @internal
 */
export function engineOfScheduler(scheduler: Scheduler): SchedulerEngine {
  return engineOf(scheduler);
}

/**
 * Cooperative multitasking on one thread. Tasks run in **time slices**: a slice runs ready tasks, highest priority
 * first, until its budget (`sliceMs`, 5 ms by default) is spent, then hands control back to the event loop through
 * the host's best macrotask (`setImmediate` on Node, a `MessageChannel` in browsers), so timers, I/O and rendering
 * are served between slices. A task gives the scheduler a chance to switch at its **yield points**: a bare `yield`
 * in a generator task, `await ctx.yield()` in an async one. Yield points are cheap (a decrement and a compare; the
 * clock is read only every so many, calibrated), so put them in every loop iteration.
 *
 * Priorities are `high`, `normal` and `low`, with aging: a waiting task moves up a level for every `agingMs`.
 * Tasks of equal priority take turns slice by slice.
 *
 * @example Keeping a server responsive during a long computation
 * ```ts
 * import { Scheduler } from 'weftjs/scheduler';
 *
 * declare const records: { id: string; text: string }[];
 * declare function tokenize(text: string): string[];
 *
 * await using scheduler = new Scheduler({ sliceMs: 5 });
 * const index = await scheduler.spawn(function* () {
 *   const map = new Map<string, string[]>();
 *   for (const record of records) {
 *     for (const token of tokenize(record.text)) map.set(token, [...(map.get(token) ?? []), record.id]);
 *     yield; // requests keep being served between slices
 *   }
 *   return map;
 * });
 * ```
 */
export class Scheduler implements AsyncDisposable {
  readonly #engine: SchedulerEngine;

  static {
    engineOf = (scheduler) => scheduler.#engine;
  }

  /**
   * @param opts - `sliceMs` (default 5), `agingMs` (default 100), `sliceYields` (default 100000).
   * @throws TypeError or RangeError for an option of the wrong type or out of range.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const interactive = new Scheduler({ sliceMs: 4 }); // keeps a 60 Hz frame budget free
   * const batch = new Scheduler({ sliceMs: 20 }); // fewer switches, more throughput
   * ```
   */
  constructor(opts?: SchedulerOptions) {
    const where = 'Scheduler';
    if (opts !== undefined && (opts === null || typeof opts !== 'object')) {
      throw invalid(where, 'options must be an object', opts);
    }
    const sliceMs = numberOption(where, 'sliceMs', opts?.sliceMs, 5, false);
    const agingMs = numberOption(where, 'agingMs', opts?.agingMs, 100, true);
    const sliceYields = opts?.sliceYields ?? 100_000;
    assertPositiveInteger(where, 'sliceYields', sliceYields);
    this.#engine = new SchedulerEngine(sliceMs, agingMs, sliceYields);
  }

  /**
   * Starts a task. The task never runs synchronously: it starts in a later slice, after tasks of higher priority.
   * The returned {@link Task} is awaitable and cancellable.
   *
   * @param task - A generator function (bare `yield` is a yield point), an async generator function, an async
   *   function (`await ctx.yield()` is a yield point), or a plain function. It receives a {@link TaskContext}.
   * @param opts - `priority` (`'high'`, `'normal'` by default, `'low'`), `signal`, `timeout` (ms, counted from now)
   *   and `name`.
   * @returns The task; it resolves with what `task` returns.
   * @throws TypeError or RangeError for a bad argument. After disposal it returns a task already cancelled with a
   *   `ClosedError`.
   *
   * @example Priorities
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * declare function prefetchAll(): Generator<unknown, void>;
   * declare function renderVisible(): Generator<unknown, number>;
   *
   * const scheduler = new Scheduler();
   * scheduler.spawn(prefetchAll, { priority: 'low' });
   * const rendered = await scheduler.spawn(renderVisible, { priority: 'high', timeout: 1_000 });
   * ```
   */
  spawn<T>(task: TaskFn<T>, opts?: SpawnOptions): Task<T> {
    return spawnTask(this.#engine, 'Scheduler.spawn', task, opts, undefined);
  }

  /**
   * The slice budget in milliseconds.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * console.log(new Scheduler().sliceMs); // 5
   * ```
   */
  get sliceMs(): number {
    return this.#engine.sliceMs;
  }

  /**
   * Counters since the scheduler was created: tasks by outcome, slices, yield points and slice lengths.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * const scheduler = new Scheduler();
   * await scheduler.spawn(() => 'done');
   * console.log(scheduler.stats.completed); // 1
   * ```
   */
  get stats(): SchedulerStats {
    const engine = this.#engine;
    const { busy, longest, overran } = engine.sliceStats();
    return {
      spawned: engine.spawned,
      completed: engine.completed,
      failed: engine.failed,
      cancelled: engine.cancelled,
      active: engine.live.size,
      queued: engine.queued,
      slices: engine.slices,
      yields: engine.yields,
      busyMs: busy,
      meanSliceMs: engine.slices > 0 ? busy / engine.slices : 0,
      maxSliceMs: longest,
      overruns: overran,
    };
  }

  /**
   * Cancels every unfinished task (with a `DOMException` named `AbortError`) and resolves once all have settled,
   * generator tasks after their `finally` blocks ran. Tasks spawned afterwards are cancelled at once with a
   * `ClosedError`. Used by `await using`.
   *
   * @example
   * ```ts
   * import { Scheduler } from 'weftjs/scheduler';
   *
   * {
   *   await using scheduler = new Scheduler();
   *   scheduler.spawn(function* () {
   *     for (;;) yield;
   *   });
   * } // cancelled and settled here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    const engine = this.#engine;
    engine.closed = true;
    const reason = abortError('The scheduler was disposed');
    for (const task of engine.live) task.cancel(reason);
    return engine.whenIdle();
  }
}
