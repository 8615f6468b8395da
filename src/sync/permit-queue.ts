/**
 * The engine behind {@link Semaphore} and {@link Mutex}: a count of free permits and one strict-FIFO queue of
 * weighted waiters. Internal: the public classes validate their arguments and delegate here.
 */
import { ClosedError } from '../errors.js';
import { QueueWaiter, Waiter, timeoutError, waitOptionsError } from '../internal/waiter.js';
import { ignore, pendingPromise, rejected, resolved, type Resolve } from '../internal/promise.js';
import { TaskStarter } from '../internal/task-starter.js';
import { ownedPermit, type PermitOwner } from '../internal/permit.js';
import { WaitQueue } from '../internal/wait-queue.js';
import type { Permit, WaitOptions } from '../types.js';

/** The names a primitive uses in its error messages. */
export interface PermitQueueNames {
  /** The class, e.g. `Semaphore`. */
  readonly owner: string;
  /** The acquiring method, e.g. `Semaphore.acquire`. */
  readonly acquire: string;
  /** The non-waiting acquiring method, e.g. `Semaphore.tryAcquire`. */
  readonly tryAcquire: string;
  /** The running method, e.g. `Semaphore.run`. */
  readonly run: string;
  /** The method that waits for free permits without taking them, e.g. `Semaphore.waitForUnlock`. */
  readonly waitForUnlock: string;
}

/** A queued request for `weight` permits; `admit` is called once those permits have been taken for it. */
abstract class QueuedWaiter extends Waiter<unknown> {
  abstract get weight(): number;
  abstract admit(owner: PermitQueue): void;
}

/** A waiter for several permits, or one that can be aborted or time out. */
class AcquireWaiter extends QueuedWaiter {
  constructor(
    private readonly owner: PermitQueue,
    private readonly amount: number,
  ) {
    super();
  }
  get weight(): number {
    return this.amount;
  }
  get operation(): string {
    return this.owner.names.acquire;
  }
  cancel(reason: unknown): void {
    this.owner.withdraw(this);
    this.fail(reason);
  }
  admit(owner: PermitQueue): void {
    this.grant(ownedPermit(owner, this.amount));
  }
}

/** A `run(fn)` call without signal or timeout, so it needs no way back to its queue. */
class RunTask extends QueuedWaiter {
  constructor(
    /** Dropped once called. */
    private fn: () => unknown,
    readonly weight: number,
  ) {
    super();
  }
  get operation(): string {
    return 'run';
  }
  /** Never armed: see {@link CancellableRunTask}. */
  cancel(reason: unknown): void {
    this.fail(reason);
  }
  admit(owner: PermitQueue): void {
    owner.starter!.admit(this);
  }
  call(): unknown {
    const fn = this.fn;
    this.fn = ignore;
    return fn();
  }
}

/** A `run(fn)` call that can be aborted or time out while it waits. */
class CancellableRunTask extends RunTask {
  constructor(
    private readonly owner: PermitQueue,
    fn: () => unknown,
    weight: number,
  ) {
    super(fn, weight);
  }
  override get operation(): string {
    return this.owner.names.run;
  }
  override cancel(reason: unknown): void {
    this.owner.withdraw(this);
    this.fail(reason);
  }
}

/**
 * A `waitForUnlock(weight)` call: it takes nothing, so it waits beside the acquire queue, never in it, and is woken
 * once `weight` permits are free with nobody queued (when `acquire(weight)` would be granted at once).
 */
class UnlockWaiter extends QueueWaiter<void, UnlockWaiter> {
  constructor(
    queue: WaitQueue<UnlockWaiter>,
    readonly weight: number,
    private readonly names: PermitQueueNames,
  ) {
    super(queue);
  }
  get operation(): string {
    return this.names.waitForUnlock;
  }
}

/**
 * The common waiter, for one permit with neither signal nor timeout: only its promise's resolve function, queued as
 * it is. It can never be withdrawn, so it needs no slot record, and a pending `acquire()` / `lock()` costs no more
 * than its promise.
 */
type PlainWaiter = Resolve<Permit>;

export class PermitQueue implements PermitOwner {
  /** Permits free now. */
  available: number;
  readonly queue = new WaitQueue<QueuedWaiter | PlainWaiter>();
  /** Starts `run` tasks; made by the first `run` call (most locks are only ever acquired, and a lock per key is common). */
  starter: TaskStarter<RunTask> | undefined = undefined;
  /** `waitForUnlock` callers, in arrival order; made by the first one that has to wait. */
  private unlockWaiters: WaitQueue<UnlockWaiter> | undefined = undefined;
  private closed = false;
  private closeReason: unknown = undefined;
  private hasCloseReason = false;

  constructor(
    readonly capacity: number,
    readonly names: PermitQueueNames,
  ) {
    this.available = capacity;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The permits if they can be had right now without overtaking a queued waiter. */
  tryAcquire(weight: number): Permit | undefined {
    if (weight > this.capacity) throw this.overCapacity(this.names.tryAcquire, weight);
    if (this.closed || this.queue.length !== 0 || this.available < weight) return undefined;
    this.available -= weight;
    return ownedPermit(this, weight);
  }

  /** `weight` must already be a positive integer. */
  acquire(weight: number, opts: WaitOptions | undefined): Promise<Permit> {
    if (opts === undefined && !this.closed && this.queue.length === 0 && this.available >= weight) {
      this.available -= weight;
      return Promise.resolve(ownedPermit(this, weight));
    }
    const error = this.admissionError(this.names.acquire, weight, opts);
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- signal.reason, an option error or the close reason
    if (error !== undefined) return Promise.reject(error);
    if (this.queue.length === 0 && this.available >= weight) {
      this.available -= weight;
      return Promise.resolve(ownedPermit(this, weight));
    }
    if (opts === undefined) {
      if (weight === 1) return this.enqueuePlain();
      const waiter = new AcquireWaiter(this, weight);
      this.queue.push(waiter);
      return waiter.wait(undefined, undefined) as Promise<Permit>;
    }
    const { signal, timeout } = opts;
    if (timeout === 0) return Promise.reject(timeoutError(this.names.acquire, 0));
    const armed = signal !== undefined || (timeout !== undefined && timeout !== Infinity);
    if (weight === 1 && !armed) return this.enqueuePlain();
    const waiter = new AcquireWaiter(this, weight);
    this.queue.push(waiter);
    return waiter.wait(signal, timeout) as Promise<Permit>;
  }

  private enqueuePlain(): Promise<Permit> {
    const { promise, resolve } = pendingPromise<Permit>();
    this.queue.push(resolve);
    return promise;
  }

  /** `fn` must already be a function and `weight` a positive integer. */
  run<T>(fn: () => T | PromiseLike<T>, weight: number, opts: WaitOptions | undefined): Promise<T> {
    if (opts !== undefined || this.closed || weight > this.capacity)
      return this.runWithOptions(fn, weight, opts);
    const starter = (this.starter ??= new TaskStarter(this));
    const task = new RunTask(fn, weight);
    if (this.queue.length === 0 && this.available >= weight) {
      this.available -= weight;
      return starter.startAdmitted(task) as Promise<T>;
    }
    this.queue.push(task);
    return starter.startWhenAdmitted(task, undefined, undefined) as Promise<T>;
  }

  private runWithOptions<T>(
    fn: () => T | PromiseLike<T>,
    weight: number,
    opts: WaitOptions | undefined,
  ): Promise<T> {
    const error = this.admissionError(this.names.run, weight, opts);
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- signal.reason, an option error or the close reason
    if (error !== undefined) return Promise.reject(error);
    const starter = (this.starter ??= new TaskStarter(this));
    if (this.queue.length === 0 && this.available >= weight) {
      this.available -= weight;
      return starter.startAdmitted(new RunTask(fn, weight)) as Promise<T>;
    }
    const { signal, timeout } = opts!;
    if (timeout === 0) return Promise.reject(timeoutError(this.names.run, 0));
    const armed = signal !== undefined || (timeout !== undefined && timeout !== Infinity);
    const task = armed ? new CancellableRunTask(this, fn, weight) : new RunTask(fn, weight);
    this.queue.push(task);
    return starter.startWhenAdmitted(task, signal, timeout) as Promise<T>;
  }

  /** `weight` must already be a positive integer. */
  waitForUnlock(weight: number, opts: WaitOptions | undefined): Promise<void> {
    const where = this.names.waitForUnlock;
    const error = this.admissionError(where, weight, opts);
    if (error !== undefined) return rejected(error);
    if (this.queue.length === 0 && this.available >= weight) return resolved();
    if (opts?.timeout === 0) return rejected(timeoutError(where, 0));
    const waiters = (this.unlockWaiters ??= new WaitQueue());
    const waiter = new UnlockWaiter(waiters, weight, this.names);
    waiters.push(waiter);
    return waiter.wait(opts?.signal, opts?.timeout);
  }

  releasePermit(amount: number): void {
    this.available += amount;
    if (this.queue.length !== 0) this.admit();
    if (this.unlockWaiters !== undefined && this.unlockWaiters.length !== 0) this.wakeUnlockWaiters();
  }

  /** Unlinks a cancelled waiter; if it was the head, lighter waiters behind it may now go ahead. */
  withdraw(waiter: QueuedWaiter): void {
    this.queue.remove(waiter);
    this.admit();
    if (this.unlockWaiters !== undefined && this.unlockWaiters.length !== 0) this.wakeUnlockWaiters();
  }

  close(reason: unknown, hasReason: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.hasCloseReason = hasReason;
    for (const waiter of this.queue.drain()) {
      if (typeof waiter === 'function') waiter(rejected(this.closedError()));
      else waiter.fail(this.closedError());
    }
    if (this.unlockWaiters !== undefined) {
      for (const waiter of this.unlockWaiters.drain()) waiter.fail(this.closedError());
    }
  }

  /** Wakes, in arrival order, every `waitForUnlock` caller whose weight is free now that nobody is queued. */
  private wakeUnlockWaiters(): void {
    if (this.queue.length !== 0) return;
    const waiters = this.unlockWaiters!;
    for (let waiter = waiters.peek(); waiter !== undefined;) {
      const next = waiters.after(waiter);
      if (waiter.weight <= this.available) {
        waiters.remove(waiter);
        waiter.grant(undefined);
      }
      waiter = next;
    }
  }

  /** Admits waiters from the head, in order, while the head's weight fits. */
  private admit(): void {
    for (;;) {
      const head = this.queue.peek();
      if (head === undefined) return;
      const plain = typeof head === 'function';
      const weight = plain ? 1 : head.weight;
      if (weight > this.available) return;
      this.available -= weight;
      this.queue.shift();
      if (plain) head(ownedPermit(this, 1));
      else head.admit(this);
    }
  }

  private admissionError(where: string, weight: number, opts: WaitOptions | undefined): unknown {
    if (opts !== undefined) {
      const error = waitOptionsError(where, opts);
      if (error !== undefined) return error;
    }
    if (weight > this.capacity) return this.overCapacity(where, weight);
    if (this.closed) return this.closedError();
    return undefined;
  }

  private overCapacity(where: string, weight: number): RangeError {
    return new RangeError(`${where}: weight must be at most the capacity (${this.capacity}), got ${weight}`);
  }

  private closedError(): unknown {
    return this.hasCloseReason ? this.closeReason : new ClosedError(`${this.names.owner} closed`);
  }
}
