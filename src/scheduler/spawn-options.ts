/** The checks of `spawn`'s arguments, shared by `Scheduler.spawn`, `TaskContext.spawn` and `Scope.spawn`. */
import { waitOptionsTypeError } from '../internal/waiter.js';
import { assertFunction, invalid } from '../internal/validate.js';
import type { SpawnOptions, TaskFn, TaskPriority } from './types.js';

/** The priorities by level: a task's level is its index here (0 runs first). */
export const PRIORITIES: readonly TaskPriority[] = ['high', 'normal', 'low'];

/**
 * Checks the task function and the options of a spawn, throwing the `TypeError` / `RangeError` that names the bad
 * argument; returns the task's priority level.
 */
export function spawnLevel(where: string, fn: TaskFn<unknown>, opts: SpawnOptions | undefined): number {
  assertFunction(where, 'task', fn);
  if (opts === undefined) return 1;
  if (opts === null || typeof opts !== 'object') {
    throw invalid(where, 'options must be an object', opts);
  }
  const { priority, name } = opts;
  let level = 1;
  if (priority !== undefined) {
    level = PRIORITIES.indexOf(priority);
    if (level < 0) throw invalid(where, 'priority must be "high", "normal" or "low"', priority);
  }
  if (name !== undefined && typeof name !== 'string') {
    throw invalid(where, 'name must be a string', name);
  }
  const error = waitOptionsTypeError(where, opts);
  if (error !== undefined) throw error;
  return level;
}
