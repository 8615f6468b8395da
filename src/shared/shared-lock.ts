/**
 * What `SharedMutex` and `SharedSemaphore` share, so that each public class only names its calls and documents
 * them: opening their memory (new, or from a handle), the async and blocking acquires with their argument checks,
 * `run`, and `releaseThread`'s check. A mutex is a semaphore of one permit, taken one at a time.
 */
import { waitOptionsError } from '../internal/waiter.js';
import { rejected } from '../internal/promise.js';
import { assertFunction, assertNonNegativeInteger } from '../internal/validate.js';
import type { Permit, WaitOptions } from '../types.js';
import type { SharedCore } from './core.js';
import { openHandle, type SharedHandle, type SharedKind } from './handle.js';
import { capacityError, syncTimeout, weightError, type SyncWaitOptions } from './options.js';

/** Set by {@link openFrom} for the constructor call it makes; never visible outside this module. */
let attaching: SharedHandle | undefined;

/** For a lock's constructor: the handle `from()` is opening it on, or undefined for `new` (make new memory). */
export function attachedHandle(): SharedHandle | undefined {
  const handle = attaching;
  attaching = undefined;
  return handle;
}

/** `from(handle)`: checks `handle`, then builds the lock with `construct` (whose constructor takes the handle). */
export function openFrom<L>(kind: SharedKind, handle: unknown, construct: () => L): L {
  const buffer = openHandle(`${kind}.from`, kind, handle);
  attaching = Object.freeze({ kind, buffer });
  return construct();
}

/** The async acquire: rejects with the first argument error, else waits in `core`'s queue. */
export function acquireChecked(
  core: SharedCore,
  weight: number,
  opts: WaitOptions | undefined,
  where: string,
): Promise<Permit> {
  const error =
    weightError(where, weight) ??
    waitOptionsError(where, opts) ??
    capacityError(where, weight, core.capacity);
  if (error !== undefined) return rejected(error);
  return core.acquire(weight, opts?.signal, opts?.timeout, where);
}

/** `run`: takes `weight` permits, runs `fn`, and gives them back when it settles, even when it throws or rejects. */
export async function runHolding<T>(
  core: SharedCore,
  weight: number,
  opts: WaitOptions | undefined,
  where: string,
  fn: () => T | PromiseLike<T>,
): Promise<T> {
  assertFunction(where, 'fn', fn);
  const permit = await acquireChecked(core, weight, opts, where);
  try {
    return await fn();
  } finally {
    permit.release();
  }
}

/**
 * The blocking acquire: throws the first argument error, or an `Error` where blocking would deadlock this thread
 * (a mutex it holds or awaits; async acquires of its own queued on a semaphore, which could be granted permits
 * that nothing releases while it is blocked), else blocks.
 */
export function acquireBlocking(
  core: SharedCore,
  weight: number,
  opts: SyncWaitOptions | undefined,
  where: string,
): Permit {
  const error = weightError(where, weight);
  if (error !== undefined) throw error;
  const timeout = syncTimeout(where, opts);
  const overCapacity = capacityError(where, weight, core.capacity);
  if (overCapacity !== undefined) throw overCapacity;
  if (core.kind === 'SharedMutex') {
    if (core.involved()) {
      throw new Error(`${where}: this thread already holds or awaits this lock; blocking now would deadlock`);
    }
  } else if (core.awaiting()) {
    throw new Error(
      `${where}: this thread has acquire() calls queued here; blocking now could deadlock with them`,
    );
  }
  return core.acquireSync(weight, timeout, where);
}

/** `releaseThread(threadId)`: checks the id, then gives back what that thread held. Returns the permits freed. */
export function releaseThreadChecked(core: SharedCore, threadId: number): number {
  assertNonNegativeInteger(`${core.kind}.releaseThread`, 'threadId', threadId);
  return core.releaseThread(threadId);
}
