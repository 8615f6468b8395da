/**
 * The engine behind {@link RateLimiter}: a sliding-window log of admissions, one strict-FIFO queue of weighted
 * waiters, and at most one timer, armed only while someone waits. Internal: the public class validates its
 * arguments and delegates here.
 */
import { ClosedError } from '../errors.js';
import { Waiter, timeoutError, timerDelay, waitOptionsError } from '../internal/cancel.js';
import { ignore, rejected, resolved } from '../internal/promise.js';
import { WaitQueue } from '../internal/wait-queue.js';
import type { WaitOptions } from '../types.js';
import { AdmissionLog } from './admission-log.js';

/**
 * Milliseconds on the monotonic clock. Looked up on every call rather than captured, so that a test's fake timers
 * (which replace `performance`) move the limiter's clock along with its timers.
 */
function now(): number {
  return performance.now();
}

const TAKE = 'RateLimiter.take';
const TRY_TAKE = 'RateLimiter.tryTake';
const RUN = 'RateLimiter.run';

/** A queued request for `weight`; `admit` is called once it has been entered in the log as entry `seq`. */
abstract class RateWaiter extends Waiter<void> {
  constructor(
    private readonly owner: RateQueue,
    readonly weight: number,
  ) {
    super();
  }
  cancel(reason: unknown): void {
    this.owner.withdraw(this);
    this.fail(reason);
  }
  abstract admit(seq: number): void;
}

class TakeWaiter extends RateWaiter {
  get operation(): string {
    return TAKE;
  }
  admit(): void {
    this.grant(undefined);
  }
}

/** A `run(fn)` call. Admitted, it moves to the runner's `admitted` queue, whose `start` calls `fn`. */
class RunTask extends RateWaiter {
  /** The task's log entry, restamped when `fn` starts. */
  seq = -1;

  constructor(
    owner: RateQueue,
    weight: number,
    /** Dropped once called. */
    public fn: () => unknown,
    private readonly runner: Runner,
  ) {
    super(owner, weight);
  }
  get operation(): string {
    return RUN;
  }
  admit(seq: number): void {
    this.seq = seq;
    this.runner.admitted.push(this);
    this.grant(undefined);
  }
}

/**
 * Starts admitted `run` tasks. Each admission queues exactly one start reaction, registered in the caller's call
 * (so `fn` runs in the caller's async context), and reactions run in the order they were queued, so each takes the
 * oldest admitted task. The task's log entry is restamped at the moment `fn` starts: that, not the admission a few
 * microtasks earlier, is the time the window counts.
 */
class Runner {
  readonly admitted = new WaitQueue<RunTask>();
  readonly start = (): unknown => {
    const task = this.admitted.shift()!;
    this.log.stamp(task.seq, now());
    const fn = task.fn;
    task.fn = ignore;
    return fn();
  };

  constructor(private readonly log: AdmissionLog) {}
}

export class RateQueue {
  private readonly log: AdmissionLog;
  readonly queue = new WaitQueue<RateWaiter>();
  /** Made by the first `run` call. */
  private runner: Runner | undefined = undefined;
  private timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** When the armed timer is due (`Infinity` when none is). */
  private timerDue = Infinity;
  private readonly onTimer = (): void => {
    this.timer = undefined;
    this.timerDue = Infinity;
    this.admit();
  };
  closed = false;
  private closeReason: unknown = undefined;
  private hasCloseReason = false;

  constructor(
    readonly limit: number,
    readonly interval: number,
  ) {
    this.log = new AdmissionLog(limit, interval);
  }

  /** Weight that fits in the window right now. */
  get available(): number {
    this.log.expire(now());
    return this.limit - this.log.used;
  }

  /** `weight` must already be a positive integer. */
  tryTake(weight: number): boolean {
    if (weight > this.limit) throw this.overLimit(TRY_TAKE, weight);
    return !this.closed && this.queue.length === 0 && this.admitNow(weight) !== -1;
  }

  /** `weight` must already be a positive integer. */
  take(weight: number, opts: WaitOptions | undefined): Promise<void> {
    const error = this.admissionError(TAKE, weight, opts);
    if (error !== undefined) return rejected(error);
    if (this.queue.length === 0 && this.admitNow(weight) !== -1) return resolved();
    if (opts?.timeout === 0) return rejected(timeoutError(TAKE, 0));
    const waiter = new TakeWaiter(this, weight);
    this.enqueue(waiter);
    return waiter.wait(opts?.signal, opts?.timeout);
  }

  /** `fn` must already be a function and `weight` a positive integer. */
  run<T>(fn: () => T | PromiseLike<T>, weight: number, opts: WaitOptions | undefined): Promise<T> {
    const error = this.admissionError(RUN, weight, opts);
    if (error !== undefined) return rejected(error);
    const runner = (this.runner ??= new Runner(this.log));
    const task = new RunTask(this, weight, fn, runner);
    if (this.queue.length === 0) {
      const seq = this.admitNow(weight);
      if (seq !== -1) {
        task.seq = seq;
        runner.admitted.push(task);
        return resolved().then(runner.start) as Promise<T>;
      }
    }
    if (opts?.timeout === 0) return rejected(timeoutError(RUN, 0));
    this.enqueue(task);
    return task.wait(opts?.signal, opts?.timeout).then(runner.start) as Promise<T>;
  }

  /** Takes a cancelled waiter out; if it was the head, the next one may fit now or sooner. */
  withdraw(waiter: RateWaiter): void {
    const wasHead = this.queue.peek() === waiter;
    this.queue.remove(waiter);
    if (wasHead) this.admit();
  }

  close(reason: unknown, hasReason: boolean): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    this.hasCloseReason = hasReason;
    this.cancelTimer();
    for (const waiter of this.queue.drain()) waiter.fail(this.closedError());
  }

  /** Enters `weight` in the log if it fits now; returns its sequence number, or -1. */
  private admitNow(weight: number): number {
    const time = now();
    this.log.expire(time);
    return this.log.used + weight <= this.limit ? this.log.add(time, weight) : -1;
  }

  private enqueue(waiter: RateWaiter): void {
    this.queue.push(waiter);
    if (this.queue.length === 1) this.schedule(this.log.fitsAt(waiter.weight), now());
  }

  /** Admits waiters from the head, in order, while the head fits; then waits for the head's turn, or for nobody. */
  private admit(): void {
    let head = this.queue.peek();
    if (head === undefined) {
      this.cancelTimer();
      return;
    }
    const time = now();
    this.log.expire(time);
    while (head !== undefined && this.log.used + head.weight <= this.limit) {
      this.queue.shift();
      head.admit(this.log.add(time, head.weight));
      head = this.queue.peek();
    }
    if (head === undefined) this.cancelTimer();
    else this.schedule(this.log.fitsAt(head.weight), time);
  }

  /**
   * Makes sure the timer fires no later than `due`. An armed timer due earlier is kept: when it fires it finds the
   * head still blocked and arms again. Timers may fire a little early (Node.js rounds times to whole milliseconds),
   * and that is handled the same way.
   */
  private schedule(due: number, time: number): void {
    if (this.timer !== undefined) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(this.onTimer, timerDelay(Math.max(1, Math.ceil(due - time))));
  }

  private cancelTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
  }

  private admissionError(where: string, weight: number, opts: WaitOptions | undefined): unknown {
    if (opts !== undefined) {
      const error = waitOptionsError(where, opts);
      if (error !== undefined) return error;
    }
    if (weight > this.limit) return this.overLimit(where, weight);
    if (this.closed) return this.closedError();
    return undefined;
  }

  private overLimit(where: string, weight: number): RangeError {
    return new RangeError(`${where}: weight must be at most the limit (${this.limit}), got ${weight}`);
  }

  private closedError(): unknown {
    return this.hasCloseReason ? this.closeReason : new ClosedError('RateLimiter closed');
  }
}
