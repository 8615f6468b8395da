/**
 * One task: what the user gets back from `spawn` (the {@link Task} interface) and its state machine inside the
 * engine. A task is a node of the run queues, the target of its signal and timeout, the owner of the children it
 * spawns through `ctx.spawn` and, lazily, its own promise.
 *
 * Life cycle: `pending` (queued, not started) -> `running` (its code has started) -> `done` | `failed` | `cancelled`.
 * `cancelling` is set by the first `cancel()`; from then on the task settles as `cancelled` (unless its cleanup
 * throws), its signal aborts, and its unsettled children are cancelled with the same reason. `finish` settles it
 * once: it leaves the run queue, disarms its signal and timer, and tells the engine and its owner.
 */
import { ClosedError } from '../errors.js';
import { abortError, linkCancel, timeoutError, type CancelLink } from '../internal/waiter.js';
import { ignore, isThenable, pendingPromise, rejected, resolved } from '../internal/promise.js';
import { WaitNode, type WaitQueue } from '../internal/wait-queue.js';
import { Context } from './context.js';
import { ACTIVITY_MASK, PREEMPT, RUN, spinGenerator, type SchedulerEngine } from './scheduler-engine.js';
import { PRIORITIES, spawnLevel } from './spawn-options.js';
import type { SpawnOptions, Task, TaskFn, TaskPriority, TaskStatus } from './types.js';

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

type Settled = 'done' | 'failed' | 'cancelled';

export class TaskImpl extends WaitNode implements Task<unknown>, TaskOwner {
  status: TaskStatus = 'pending';
  /** The run queue this task is linked into, if any. */
  queue: WaitQueue<TaskImpl> | null = null;
  /** When it last became ready (engine clock), for aging. */
  readyAt = 0;

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
  /** Its `signal` and `timeout` options, armed once it is admitted. */
  #link: CancelLink | null = null;
  /** Its scope or parent task; dropped once a parent has finished without being cancelled. */
  #owner: TaskOwner | undefined;
  /** The unsettled children it spawned through `ctx.spawn` (made by the first one). */
  #children: Set<TaskImpl> | undefined;
  #onStepError: ((error: unknown) => void) | undefined;

  constructor(
    readonly engine: SchedulerEngine,
    fn: TaskFn<unknown>,
    readonly level: number,
    readonly name: string | undefined,
    owner: TaskOwner | undefined,
  ) {
    super();
    this.#fn = fn;
    this.#owner = owner;
  }

  /** How timeout messages name the task. */
  get operation(): string {
    return this.name === undefined ? 'Task' : `Task ${JSON.stringify(this.name)}`;
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
  arm(signal: AbortSignal | undefined, timeout: number | undefined): void {
    this.#link = linkCancel(this, signal, timeout);
  }

  /** `ctx.spawn`: a child of this task. */
  spawnChild<T>(fn: TaskFn<T>, opts: SpawnOptions | undefined): Task<T> {
    return spawnTask(this.engine, 'TaskContext.spawn', fn, opts, this);
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
        const pending = pendingPromise<unknown>();
        promise = pending.promise;
        this.#settle = pending.resolve;
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
    this.#resume = parked.resolve;
    engine.ready(this);
    return parked.promise;
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
    if (this.#link !== null) {
      this.#link.disarm();
      this.#link = null;
    }
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
      // eslint-disable-next-line @typescript-eslint/unbound-method -- spinGenerator calls it as next.call(gen)
      const next = gen.next;
      for (;;) {
        step = spinGenerator(engine, gen, next, step);
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
  engine: SchedulerEngine,
  where: string,
  fn: TaskFn<T>,
  opts: SpawnOptions | undefined,
  owner: TaskOwner | undefined,
): Task<T> {
  const level = spawnLevel(where, fn, opts);
  const signal = opts?.signal;
  const timeout = opts?.timeout;
  const task = new TaskImpl(engine, fn, level, opts?.name, owner);
  engine.spawned++;
  if (engine.closed) task.cancel(new ClosedError(`${where}: the scheduler has been disposed`));
  else if (signal?.aborted) task.cancel(signal.reason);
  else if (timeout === 0) task.cancel(timeoutError(task.operation, 0));
  else {
    engine.admit(task);
    task.arm(signal, timeout);
  }
  if (owner !== undefined && !task.settled) owner.adopt(task);
  return task as Task<unknown> as Task<T>;
}
