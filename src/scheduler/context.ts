/**
 * The `ctx` a task function receives: its signal, its yield points and its `spawn`. The fast path of a yield point
 * is here (a decrement and a compare); everything else is the task's.
 */
import { resolved } from '../internal/promise.js';
import { ACTIVITY_MASK, type Budget } from './scheduler-engine.js';
import type { Scheduler } from './scheduler.js';
import type { TaskImpl } from './task.js';
import type { SpawnOptions, Task, TaskContext, TaskFn } from './types.js';

export class Context implements TaskContext {
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
    return (this.#spawn ??= <T>(fn: TaskFn<T>, opts?: SpawnOptions): Task<T> => task.spawnChild(fn, opts));
  }

  yield(): Promise<void> {
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
