/**
 * The engine behind {@link Semaphore} and {@link Mutex}: a count of free permits and one strict-FIFO queue of
 * weighted waiters. Internal: the public classes validate their arguments and delegate here.
 */
import { ClosedError } from '../errors.js';
import { QueueWaiter, Waiter, canCancel, timeoutError, waitOptionsError } from '../internal/waiter.js';
import { pendingPromise, rejected, resolved, type Resolve } from '../internal/promise.js';
import { TaskStarter, failTask, newTask, startWithPermit, type Task } from '../internal/task-starter.js';
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

/** A waiter for several permits, or one that can be aborted or time out. */
class AcquireWaiter extends Waiter<Permit> {
  constructor(
    private readonly owner: PermitQueue,
    readonly weight: number,
    /** The method waiting, for timeout messages: `Semaphore.acquire`, `Mutex.run`, ... */
    readonly operation: string,
  ) {
    super();
  }
  cancel(reason: unknown): void {
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
  readonly queue = new WaitQueue<AcquireWaiter | Task | PlainWaiter>();
  /** Starts `run` tasks; made by the first `run` call (most locks are only ever acquired, and a lock per key is common). */
  starter: TaskStarter | undefined = undefined;
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
    return this.acquireAs(this.names.acquire, weight, opts);
  }

  /**
   * Runs `fn` holding `weight` permits: it starts once they are taken, in a microtask, and they go back once it
   * settles (see `internal/task-starter.ts`). `fn` must already be a function and `weight` a positive integer.
   */
  run<T>(fn: () => T | PromiseLike<T>, weight: number, opts: WaitOptions | undefined): Promise<T> {
    // A wait that can be aborted or time out, or one that cannot be granted: the rarer path, through `acquire`.
    if (opts !== undefined || this.closed || weight > this.capacity) {
      return startWithPermit(this.acquireAs(this.names.run, weight, opts), fn) as Promise<T>;
    }
    const starter = (this.starter ??= new TaskStarter(this));
    const task = newTask(fn, undefined, weight);
    if (this.queue.length === 0 && this.available >= weight) {
      this.available -= weight;
      return starter.startAdmitted(task) as Promise<T>;
    }
    this.queue.push(task);
    return starter.startWhenAdmitted(task) as Promise<T>;
  }

  /** Takes `weight` permits for the method `where`, waiting for them in the queue if need be. */
  private acquireAs(where: string, weight: number, opts: WaitOptions | undefined): Promise<Permit> {
    if (opts === undefined && !this.closed && this.queue.length === 0 && this.available >= weight) {
      this.available -= weight;
      return Promise.resolve(ownedPermit(this, weight));
    }
    const error = this.admissionError(where, weight, opts);
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- signal.reason, an option error or the close reason
    if (error !== undefined) return Promise.reject(error);
    if (this.queue.length === 0 && this.available >= weight) {
      this.available -= weight;
      return Promise.resolve(ownedPermit(this, weight));
    }
    if (opts?.timeout === 0) return Promise.reject(timeoutError(where, 0));
    if (weight === 1 && !canCancel(opts)) return this.enqueuePlain();
    return this.enqueue(new AcquireWaiter(this, weight, where), opts);
  }

  private enqueuePlain(): Promise<Permit> {
    const { promise, resolve } = pendingPromise<Permit>();
    this.queue.push(resolve);
    return promise;
  }

  private enqueue(waiter: AcquireWaiter, opts: WaitOptions | undefined): Promise<Permit> {
    this.queue.push(waiter);
    return waiter.wait(opts?.signal, opts?.timeout);
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
  withdraw(waiter: AcquireWaiter): void {
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
      else if (waiter instanceof AcquireWaiter) waiter.fail(this.closedError());
      else failTask(waiter, this.closedError());
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
      else if (head instanceof AcquireWaiter) head.grant(ownedPermit(this, weight));
      else this.starter!.admit(head);
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
