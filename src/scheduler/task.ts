/**
 * One task: what the user gets back from `spawn` (the {@link Task} interface) and its state machine inside the
 * engine. A task is a node of the run queues, its own abort listener (`handleEvent`) and, lazily, its own promise.
 */
import { abortError, timeoutError, timerDelay, waitOptionsTypeError } from '../internal/cancel.js';
import { ClosedError } from '../errors.js';
import { ignore, isThenable, pendingPromise, rejected, resolved, takeResolve } from '../internal/promise.js';
import { WaitNode, type WaitQueue } from '../internal/wait-queue.js';
import type { WaitOptions } from '../types.js';
import { assertFunction, invalid } from '../internal/validate.js';
import { PREEMPT, RUN, type Budget, type Engine } from './engine.js';
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
   * aborts, and its next `ctx.yield()` rejects with the reason, so it unwinds. Does nothing once the task has
   * settled.
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
   * reason, and so are their own children. A child spawned while this task is being cancelled (from a `finally`
   * block, say) is cancelled at once. A task that ends otherwise, returning or throwing, leaves its children running:
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

/** Told when a task it spawned settles: a scope, or the task whose `ctx.spawn` spawned it. */
export interface TaskOwner {
  /** A task was spawned into it (and has not settled at once). */
  adopt(task: TaskImpl): void;
  childSettled(task: TaskImpl): void;
}

/** What the task function turned out to be. */
const FRESH = 0;
const GEN = 1;
const AGEN = 2;
const ASYNC = 3;

/** How a generator resumes. */
const NEXT = 0;
const THROW = 1;
const RETURN = 2;

export const PRIORITIES: readonly TaskPriority[] = ['high', 'normal', 'low'];

/** `budget.activity` wraps here, staying a small integer. */
const ACTIVITY_MASK = 0x3fffffff;

function onTimeout(task: TaskImpl, ms: number): void {
  task.timer = undefined;
  task.cancel(timeoutError(task.name === undefined ? 'Task' : `Task ${JSON.stringify(task.name)}`, ms));
}

type Settled = 'done' | 'failed' | 'cancelled';

export class TaskImpl extends WaitNode implements Task<unknown>, TaskOwner {
  status: TaskStatus = 'pending';
  /** The run queue this task is linked into, if any. */
  queue: WaitQueue<TaskImpl> | null = null;
  /** When it last became ready (engine clock), for aging. */
  readyAt = 0;
  timer: unknown;

  #fn: TaskFn<unknown> | undefined;
  #kind = FRESH;
  #iter: Generator<unknown, unknown, unknown> | AsyncGenerator<unknown, unknown, unknown> | undefined;
  /** True while its generator body is on the stack. */
  #executing = false;
  #mode = NEXT;
  #input: unknown;
  /** The promise a generator task yielded and waits for. */
  #awaited: Promise<unknown> | undefined;
  /** Resumes an async task parked in `ctx.yield()`. */
  #resume: ((value: void | PromiseLike<void>) => void) | undefined;
  #closing = false;
  /** True once `cancel()` was called. */
  cancelling = false;
  #result: unknown;
  #promise: Promise<unknown> | undefined;
  #settle: ((value: unknown) => void) | undefined;
  #controller: AbortController | undefined;
  #onStep: ((result: IteratorResult<unknown, unknown>) => void) | undefined;
  readonly #userSignal: AbortSignal | undefined;
  /** Its scope or parent task; dropped once a parent has finished without being cancelled. */
  #owner: TaskOwner | undefined;
  /** The unsettled children it spawned through `ctx.spawn` (made by the first one). */
  #children: Set<TaskImpl> | undefined;
  #onStepError: ((error: unknown) => void) | undefined;

  constructor(
    readonly engine: Engine,
    fn: TaskFn<unknown>,
    readonly level: number,
    readonly name: string | undefined,
    userSignal: AbortSignal | undefined,
    owner: TaskOwner | undefined,
  ) {
    super();
    this.#fn = fn;
    this.#userSignal = userSignal;
    this.#owner = owner;
  }

  get priority(): TaskPriority {
    return PRIORITIES[this.level]!;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.cancelling) this.#controller.abort(this.#result);
    }
    return this.#controller.signal;
  }

  /** Arms the user's signal and the timeout (called once the task is admitted). */
  arm(timeout: number | undefined): void {
    this.#userSignal?.addEventListener('abort', this);
    if (timeout !== undefined && timeout !== Infinity) {
      this.timer = setTimeout(onTimeout, timerDelay(timeout), this, timeout);
    }
  }

  /** The user's signal aborted. */
  handleEvent(): void {
    this.cancel(this.#userSignal!.reason);
  }

  then<R1 = unknown, R2 = never>(
    onfulfilled?: ((value: unknown) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: unknown) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    let promise = this.#promise;
    if (promise === undefined) {
      if (this.status === 'done') promise = Promise.resolve(this.#result);
      else if (this.status === 'failed' || this.status === 'cancelled') promise = rejected(this.#result);
      else {
        promise = pendingPromise<unknown>();
        this.#settle = takeResolve<unknown>();
      }
      this.#promise = promise;
    }
    return promise.then(onfulfilled, onrejected);
  }

  cancel(reason?: unknown): void {
    if (this.cancelling || this.settled) return;
    this.cancelling = true;
    this.#result = reason === undefined ? abortError('The task was cancelled') : reason;
    this.#controller?.abort(this.#result);
    this.#cancelChildren();
    if (this.settled) return; // an abort listener may have settled it
    if (this.#kind === GEN) {
      if (this.#executing) {
        // Cancelled from its own code: it is closed at its next yield point.
        if (this.engine.budget.reason === RUN) this.engine.stop(PREEMPT);
        return;
      }
      this.unlink();
      this.#awaited = undefined;
      this.#mode = RETURN;
      this.#stepGen();
      return;
    }
    if (this.#kind === AGEN && this.queue !== null) {
      // Suspended at a yield point: close it and settle once its cleanup has run.
      this.unlink();
      this.#mode = RETURN;
      this.#stepAgen();
      return;
    }
    const resume = this.#resume;
    if (resume !== undefined) {
      this.#resume = undefined;
      resume(rejected(this.#result));
    }
    this.finish('cancelled', this.#result);
  }

  unlink(): void {
    if (this.queue !== null) {
      this.queue.remove(this);
      this.queue = null;
    }
  }

  /** Called by the engine when the task is picked to run. */
  run(): void {
    if (this.#kind === FRESH) this.#start();
    else if (this.#kind === GEN) this.#stepGen();
    else {
      // Its code runs in microtasks from here.
      this.engine.setInflight(this);
      if (this.#kind === AGEN) this.#stepAgen();
      else {
        const resume = this.#resume!;
        this.#resume = undefined;
        resume();
      }
    }
  }

  /** `ctx.yield()` once the countdown has run out or the task is cancelled (the fast path is in the context). */
  yieldSlow(): Promise<void> {
    if (this.cancelling) return rejected(this.#result);
    const engine = this.engine;
    const budget = engine.budget;
    if (
      !engine.checkClock() ||
      this.#kind === GEN ||
      this.#kind === AGEN ||
      this.#resume !== undefined ||
      this.settled
    ) {
      budget.activity = (budget.activity + 1) & ACTIVITY_MASK;
      return resolved();
    }
    // Park until the engine picks this task again.
    const parked = pendingPromise<void>();
    this.#resume = takeResolve<void>();
    engine.ready(this);
    return parked;
  }

  /** `ctx.shouldYield()`. */
  shouldGiveWay(): boolean {
    const engine = this.engine;
    return this.cancelling || (--engine.budget.countdown <= 0 && engine.checkClock());
  }

  finish(status: Settled, value: unknown): void {
    if (this.settled) return;
    if (status === 'done' && this.cancelling) {
      status = 'cancelled';
      value = this.#result;
    }
    this.status = status;
    this.#result = value;
    this.unlink();
    this.#iter = this.#awaited = this.#fn = this.#onStep = this.#onStepError = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer as number);
    this.#userSignal?.removeEventListener('abort', this);
    const settle = this.#settle;
    if (settle !== undefined) {
      this.#settle = undefined;
      settle(status === 'done' ? value : rejected(value));
    }
    this.engine.settled(this, status);
    const owner = this.#owner;
    if (owner !== undefined) {
      this.#owner = undefined;
      owner.childSettled(this);
    }
    // Not cancelled: its children run on, on their own.
    const children = this.#children;
    if (children !== undefined) {
      this.#children = undefined;
      for (const child of children) child.#owner = undefined;
    }
  }

  /** A child spawned through `ctx.spawn`: cancelled with this task, or at once if this task is being cancelled. */
  adopt(child: TaskImpl): void {
    if (this.cancelling) child.cancel(this.#result);
    else if (!this.settled) (this.#children ??= new Set()).add(child);
    else child.#owner = undefined; // spawned after this task finished: it is on its own
  }

  childSettled(child: TaskImpl): void {
    this.#children?.delete(child);
  }

  #cancelChildren(): void {
    const children = this.#children;
    if (children === undefined) return;
    this.#children = undefined;
    const reason = this.#result;
    for (const child of children) {
      child.#owner = undefined;
      child.cancel(reason);
    }
  }

  /** The outcome: the value, the error or the cancellation reason. */
  get outcome(): unknown {
    return this.#result;
  }

  get settled(): boolean {
    const status = this.status;
    return status === 'done' || status === 'failed' || status === 'cancelled';
  }

  #start(): void {
    this.status = 'running';
    const fn = this.#fn!;
    this.#fn = undefined;
    let result: unknown;
    const engine = this.engine;
    const activity = engine.budget.activity;
    this.#executing = true;
    try {
      result = fn(new Context(this));
    } catch (error) {
      this.#executing = false;
      this.finish('failed', error);
      return;
    }
    this.#executing = false;
    if (this.settled) {
      if (isThenable(result)) Promise.resolve(result).catch(ignore);
      return;
    }
    const tag =
      typeof result === 'object' && result !== null
        ? (result as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag]
        : undefined;
    if (tag === 'Generator') {
      this.#kind = GEN;
      this.#iter = result as Generator;
      this.#stepGen();
    } else if (tag === 'AsyncGenerator') {
      this.#kind = AGEN;
      this.#iter = result as AsyncGenerator;
      engine.setInflight(this);
      this.#stepAgen();
    } else if (isThenable(result)) {
      this.#kind = ASYNC;
      if (this.#resume === undefined) engine.setInflight(this, activity);
      Promise.resolve(result).then(
        (value) => this.finish('done', value),
        (error: unknown) => this.finish('failed', error),
      );
    } else {
      this.finish('done', result);
    }
  }

  /** Runs a generator task until it gives way, waits for a yielded promise, or ends. */
  #stepGen(): void {
    const engine = this.engine;
    const gen = this.#iter as Generator<unknown, unknown, unknown>;
    const input = this.#input;
    const mode = this.#mode;
    this.#input = undefined;
    this.#mode = NEXT;
    let step: IteratorResult<unknown, unknown>;
    this.#executing = true;
    try {
      if (mode === RETURN) {
        this.#closing = true;
        step = gen.return(undefined);
      } else step = mode === THROW ? gen.throw(input) : gen.next(input);
      // eslint-disable-next-line @typescript-eslint/unbound-method -- spin calls it as next.call(gen)
      const next = gen.next;
      for (;;) {
        step = spin(engine, gen, next, step);
        if (step.done) break;
        if (this.cancelling && !this.#closing) {
          // Cancelled from its own code: close it here.
          this.#closing = true;
          step = gen.return(undefined);
          continue;
        }
        this.#executing = false;
        const value = step.value;
        if (value !== undefined && isThenable(value)) this.#wait(value);
        else engine.ready(this); // gave way: the slice is spent
        return;
      }
    } catch (error) {
      this.#executing = false;
      this.finish('failed', error);
      return;
    }
    this.#executing = false;
    this.finish('done', step.value);
  }

  /** Waits for a promise a generator task yielded; the task is ready again once it settles. */
  #wait(value: PromiseLike<unknown>): void {
    const awaited = Promise.resolve(value);
    this.#awaited = awaited;
    awaited.then(
      (result) => this.#wake(awaited, NEXT, result),
      (error: unknown) => this.#wake(awaited, THROW, error),
    );
  }

  #wake(awaited: Promise<unknown>, mode: number, input: unknown): void {
    if (this.#awaited !== awaited) return;
    this.#awaited = undefined;
    this.#mode = mode;
    this.#input = input;
    this.engine.ready(this);
  }

  /** Asks an async generator task for its next step; `afterStep` decides what follows. */
  #stepAgen(): void {
    const agen = this.#iter as AsyncGenerator<unknown, unknown, unknown>;
    const mode = this.#mode;
    this.#mode = NEXT;
    let next: Promise<IteratorResult<unknown, unknown>>;
    if (mode === RETURN) {
      this.#closing = true;
      next = agen.return(undefined);
    } else next = agen.next();
    next.then(
      (this.#onStep ??= (step) => this.#afterStep(agen, step)),
      (this.#onStepError ??= (error: unknown) => this.finish('failed', error)),
    );
  }

  #afterStep(agen: AsyncGenerator<unknown, unknown, unknown>, step: IteratorResult<unknown, unknown>): void {
    if (this.settled) {
      // Cancelled while it ran: now that it is suspended, let its finally blocks run.
      if (!step.done) agen.return(undefined).catch(ignore);
      return;
    }
    if (step.done) {
      this.finish('done', step.value);
      return;
    }
    const engine = this.engine;
    const budget = engine.budget;
    budget.activity = (budget.activity + 1) & ACTIVITY_MASK;
    if (--budget.countdown <= 0 && engine.checkClock()) {
      engine.ready(this);
      return;
    }
    this.#stepAgen();
  }
}

/**
 * Spawns on `engine`, validating like {@link Scheduler.spawn}. `owner` (a scope) hears when the task settles.
 * @internal
 */
export function spawnTask<T>(
  engine: Engine,
  where: string,
  fn: TaskFn<T>,
  opts: SpawnOptions | undefined,
  owner: TaskOwner | undefined,
): Task<T> {
  assertFunction(where, 'task', fn);
  let level = 1;
  let signal: AbortSignal | undefined;
  let timeout: number | undefined;
  let name: string | undefined;
  if (opts !== undefined) {
    if (opts === null || typeof opts !== 'object') {
      throw invalid(where, 'options must be an object', opts);
    }
    ({ signal, timeout, name } = opts);
    const { priority } = opts;
    if (priority !== undefined) {
      level = PRIORITIES.indexOf(priority);
      if (level < 0) {
        throw invalid(where, 'priority must be "high", "normal" or "low"', priority);
      }
    }
    if (name !== undefined && typeof name !== 'string') {
      throw invalid(where, 'name must be a string', name);
    }
    const error = waitOptionsTypeError(where, opts);
    if (error !== undefined) throw error;
  }
  const task = new TaskImpl(engine, fn, level, name, signal, owner);
  engine.spawned++;
  if (engine.closed) task.cancel(new ClosedError(`${where}: the scheduler has been disposed`));
  else if (signal?.aborted) task.cancel(signal.reason);
  else if (timeout === 0)
    task.cancel(timeoutError(name === undefined ? 'Task' : `Task ${JSON.stringify(name)}`, 0));
  else {
    engine.admit(task);
    task.arm(timeout);
  }
  if (owner !== undefined && !task.settled) owner.adopt(task);
  return task as Task<unknown> as Task<T>;
}

/**
 * The hot loop of generator tasks, kept small and apart so that it stays optimised: resumes `gen` through its yield
 * points while the slice lasts. Returns the step that needs attention: the last one, a yielded promise, or the yield
 * point where the slice ran out. The countdown is kept in a local while the loop runs; a stop (the task cancelled
 * from its own code) is still seen at the next yield point through `budget.reason`. `next` is `gen.next`, looked up
 * once: every generator function gives its objects a shape of their own.
 */
function spin(
  engine: Engine,
  gen: Generator<unknown, unknown, unknown>,
  next: Generator<unknown, unknown, unknown>['next'],
  step: IteratorResult<unknown, unknown>,
): IteratorResult<unknown, unknown> {
  const budget = engine.budget;
  for (;;) {
    let left = budget.countdown;
    for (;;) {
      if (step.done) {
        budget.countdown = left;
        return step;
      }
      const value = step.value;
      if (value !== undefined && isThenable(value)) {
        budget.countdown = left;
        return step;
      }
      if (--left <= 0 || budget.reason !== RUN) break;
      step = next.call(gen);
    }
    budget.countdown = left;
    if (engine.checkClock()) return step;
    step = next.call(gen);
  }
}

/** The `ctx` a task function receives. */
class Context implements TaskContext {
  readonly #task: TaskImpl;
  readonly #budget: Budget;
  #spawn: Scheduler['spawn'] | undefined;

  constructor(task: TaskImpl) {
    this.#task = task;
    this.#budget = task.engine.budget;
  }

  get signal(): AbortSignal {
    return this.#task.signal;
  }

  get spawn(): Scheduler['spawn'] {
    const task = this.#task;
    return (this.#spawn ??= <T>(fn: TaskFn<T>, opts?: SpawnOptions): Task<T> =>
      spawnTask(task.engine, 'TaskContext.spawn', fn, opts, task));
  }

  yield(): Promise<void> {
    // The fast path: a decrement and a compare while the slice lasts.
    const budget = this.#budget;
    if (--budget.countdown > 0 && !this.#task.cancelling) {
      budget.activity = (budget.activity + 1) & ACTIVITY_MASK;
      return resolved();
    }
    return this.#task.yieldSlow();
  }

  shouldYield(): boolean {
    return this.#task.shouldGiveWay();
  }
}
