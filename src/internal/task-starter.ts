/**
 * How `limit(fn)`, `Semaphore.run(fn)` and `Mutex.run(fn)` start the tasks their owner admits.
 *
 * The rule: **admitted tasks start in microtask order.** Each task starts in a microtask of its own (never inside the
 * call that queued it nor inside the release that admitted it), in the order the tasks were admitted, and inside the
 * async context of the call that queued it (the start is a reaction registered during that call, so
 * `AsyncLocalStorage` values carry over).
 *
 * How it holds: a task is pushed on `admitted` at the moment it is admitted, and exactly one start reaction is
 * queued at that same moment: `resolved().then(start)` for a task admitted inside its call, or the fulfilment of
 * the task's wait (a reaction registered at call time, queued when the owner grants it with `undefined`) for a task
 * that waited. Reactions run in the order they were queued, so each one takes the head of `admitted`, which is the
 * task it was queued for. Resolving with `undefined` rather than with the task spares V8 a `then` lookup on the task.
 * A task cancelled while it waits is never admitted: its wait rejects and its start reaction never runs.
 *
 * Once `fn` settles (returns, throws, or its promise settles) the task's weight goes back to the owner, exactly once.
 */
import type { PermitOwner } from './permit.js';
import { resolved } from './promise.js';
import { WaitQueue } from './wait-queue.js';
import type { Waiter } from './waiter.js';

/** A task to start: a waiter that knows its weight and how to call its function. */
export interface StartableTask extends Waiter<unknown> {
  /** What the task holds while it runs, given back to the owner when it settles. */
  readonly weight: number;
  /** Calls the task's function, once, and drops it (and its arguments). */
  call(): unknown;
}

export class TaskStarter<T extends StartableTask> {
  /** Tasks admitted whose start reaction has not run yet, in admission order. */
  readonly #admitted = new WaitQueue<T>();
  /** Starts the oldest admitted task; one function per starter, so that starting allocates no closure. */
  readonly #start = (): unknown => this.#run(this.#admitted.shift()!);
  /** Gives back one unit; shared by every weight-1 task so that finishing one allocates no closure. */
  readonly #releaseOne = (): void => this.owner.releasePermit(1);

  constructor(private readonly owner: PermitOwner) {}

  /** `task` was admitted inside its own call: it starts in a microtask. Settles with its result. */
  startAdmitted(task: T): Promise<unknown> {
    this.#admitted.push(task);
    return resolved().then(this.#start);
  }

  /**
   * `task` waits in its owner's queue (and may be cancelled there): it starts once {@link TaskStarter.admit} grants
   * it. Settles with its result, or rejects as its wait does.
   */
  startWhenAdmitted(task: T, signal: AbortSignal | undefined, timeout: number | undefined): Promise<unknown> {
    return task.wait(signal, timeout).then(this.#start);
  }

  /** Admits a task that {@link TaskStarter.startWhenAdmitted} queued; the owner has already taken its weight. */
  admit(task: T): void {
    this.#admitted.push(task);
    task.grant(undefined);
  }

  #run(task: T): unknown {
    const weight = task.weight;
    let settled: Promise<unknown>;
    try {
      const result = task.call();
      if (result === null || (typeof result !== 'object' && typeof result !== 'function')) {
        this.owner.releasePermit(weight);
        return result;
      }
      // Adopts thenables once, whatever their `then` does; a throwing `then` becomes a rejection.
      settled = Promise.resolve(result);
    } catch (error) {
      this.owner.releasePermit(weight);
      throw error;
    }
    const release = weight === 1 ? this.#releaseOne : () => this.owner.releasePermit(weight);
    settled.then(release, release);
    return settled;
  }
}
