/**
 * How `limit(fn)`, `Semaphore.run(fn)` and `Mutex.run(fn)` start the tasks their owner admits.
 *
 * The rule: **admitted tasks start in microtask order.** Each task starts in a microtask of its own (never inside the
 * call that queued it nor inside the release that admitted it), in the order the tasks were admitted, and inside the
 * async context of the call that queued it (the start is a reaction registered during that call, so
 * `AsyncLocalStorage` values carry over).
 *
 * How it holds: every call registers exactly one start reaction, during the call, on a promise that is fulfilled at
 * the moment the task is admitted. Reactions are queued when their promise is fulfilled and run in the order they
 * were queued, so tasks start in admission order. A {@link TaskStarter} queues `resolved().then(start)` for a task
 * admitted inside its call, or fulfils the task's wait (whose reaction was registered at call time) when the owner
 * admits it later, and pushes the task on `admitted` at that same moment: each start reaction takes the head of
 * `admitted`, which is the task it was queued for. Resolving with `undefined` rather than with the task spares V8 a
 * `then` lookup on the task. A task cancelled while it waits is never admitted: its wait rejects and its start
 * reaction never runs. {@link startWithPermit} keeps the rule for the rarer tasks whose wait can be aborted or time
 * out: their start reaction is a closure registered on the wait for their permit.
 *
 * Once `fn` settles (returns, throws, or its promise settles) what the task held goes back, exactly once.
 */
import type { Permit } from '../types.js';
import type { PermitOwner } from './permit.js';
import { ignore, pendingPromise, rejected, resolved, type Resolve } from './promise.js';
import { WaitQueue } from './wait-queue.js';

/**
 * A call waiting to start, or about to. A plain object made by {@link newTask}, not an instance of a class: V8 drops
 * the object layout of a class at a full GC once no instance is alive, and with it the optimised code of every
 * function that relies on it, so the first burst after a quiet spell would run cold. An object literal's layout is
 * kept by the code that creates it.
 */
export interface Task {
  /** The task's slot in the queue holding it (see `WaitQueue`); -1 when not queued. */
  queueIndex: number;
  /** Settles the task's wait: with `undefined` once admitted, or with a rejected promise. */
  settle: Resolve<void>;
  /** The function to call; replaced by `ignore` once called, so that a running task does not keep it. */
  fn: (...args: unknown[]) => unknown;
  /** `fn`'s arguments; `undefined` for a call without any, which saves an empty array per call. */
  args: unknown[] | undefined;
  /** What the task holds while it runs, given back to the owner when it settles. */
  readonly weight: number;
}

/** A new task calling `fn(...args)` holding `weight`. */
export function newTask(
  fn: (...args: unknown[]) => unknown,
  args: unknown[] | undefined,
  weight: number,
): Task {
  return { queueIndex: -1, settle: ignore, fn, args, weight };
}

/** Rejects a task that waits: it will never start. */
export function failTask(task: Task, reason: unknown): void {
  const settle = task.settle;
  task.settle = ignore;
  settle(rejected(reason));
}

export class TaskStarter {
  /** Tasks admitted whose start reaction has not run yet, in admission order. */
  readonly #admitted = new WaitQueue<Task>();
  /** Starts the oldest admitted task; one function per starter, so that starting allocates no closure. */
  readonly #start = (): unknown => this.#run(this.#admitted.shift()!);
  /** Gives back one unit; shared by every weight-1 task so that finishing one allocates no closure. */
  readonly #releaseOne = (): void => this.owner.releasePermit(1);

  constructor(private readonly owner: PermitOwner) {}

  /** `task` was admitted inside its own call: it starts in a microtask. Settles with its result. */
  startAdmitted(task: Task): Promise<unknown> {
    this.#admitted.push(task);
    return resolved().then(this.#start);
  }

  /**
   * `task` waits in its owner's queue: it starts once {@link TaskStarter.admit} is called for it. Settles with its
   * result, or rejects as its wait does ({@link failTask}).
   */
  startWhenAdmitted(task: Task): Promise<unknown> {
    const { promise, resolve } = pendingPromise<void>();
    task.settle = resolve;
    return promise.then(this.#start);
  }

  /** Admits a task that {@link TaskStarter.startWhenAdmitted} queued; the owner has already taken its weight. */
  admit(task: Task): void {
    this.#admitted.push(task);
    const settle = task.settle;
    task.settle = ignore;
    settle(undefined);
  }

  #run(task: Task): unknown {
    const { fn, args, weight } = task;
    task.fn = ignore;
    task.args = undefined;
    const release = weight === 1 ? this.#releaseOne : () => this.owner.releasePermit(weight);
    return runTask(fn, args, release);
  }
}

/**
 * Starts `fn()` once `admission` is fulfilled with the permit it holds, and settles with its result; the permit is
 * released once `fn` has settled. Rejects as `admission` does, without calling `fn`.
 */
export function startWithPermit(admission: Promise<Permit>, fn: () => unknown): Promise<unknown> {
  return admission.then((permit) => runTask(fn, undefined, () => permit.release()));
}

function runTask(
  fn: (...args: unknown[]) => unknown,
  args: unknown[] | undefined,
  release: () => void,
): unknown {
  let settled: Promise<unknown>;
  try {
    const result = args === undefined ? fn() : fn(...args);
    if (result === null || (typeof result !== 'object' && typeof result !== 'function')) {
      release();
      return result;
    }
    // Adopts thenables once, whatever their `then` does; a throwing `then` becomes a rejection.
    settled = Promise.resolve(result);
  } catch (error) {
    release();
    throw error;
  }
  settled.then(release, release);
  return settled;
}
