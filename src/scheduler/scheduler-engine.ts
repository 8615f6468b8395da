/**
 * The scheduler's engine: run queues per priority, time slices, and the yield-point budget.
 *
 * A slice starts in a macrotask and runs ready tasks, best first, until its budget is spent: `sliceMs` of wall-clock
 * time or `sliceYields` yield points, whichever comes first. Then the next slice is queued as a macrotask, so timers
 * and I/O are served in between.
 *
 * Yield points are counted down, not timed: the clock is read only when `countdown` reaches zero, and the next
 * countdown is calibrated from the time the last one took, aiming at a clock read every fiftieth of a slice (never past
 * the deadline, never more than MAX_INTERVAL yield points apart). A yield point therefore costs a decrement and a
 * compare. Generator tasks pass theirs in {@link spinGenerator}, the hot loop at the end of this file.
 *
 * Async tasks run in microtasks, outside this loop's stack. After resuming one, the drain lets one microtask turn
 * pass, then looks: if the task has passed fast yield points meanwhile it is busy, and the drain steps aside until it
 * parks or finishes (either wakes the drain) or goes quiet (the next slice, queued meanwhile, notices: a macrotask
 * only runs once no microtask is left). So lower-priority work never overtakes it, and its fast yield points cost
 * nothing extra. A task that is quiet already (awaiting I/O) does not hold the drain up.
 */
import { isThenable, resolved } from '../internal/promise.js';
import { WaitQueue } from '../internal/wait-queue.js';
import { now, queueMacrotask } from '../internal/macrotask.js';
import type { TaskImpl } from './task.js';

/** Yield points run on. */
export const RUN = 0;
/** Yield points give way because a task of higher priority is ready (the slice goes on). */
export const PREEMPT = 1;
/** Yield points give way because the slice is spent (the next one is a macrotask away). */
const SPENT = 2;

/** `budget.activity` wraps here, staying a small integer. */
export const ACTIVITY_MASK = 0x3fffffff;

/** Most yield points between two clock reads. */
const MAX_INTERVAL = 1024;
/** Most yield points a task gets before its first clock read after a task switch. */
const SWITCH_INTERVAL = 8;

/** The state every yield point touches. */
export interface Budget {
  /** Yield points left before the next clock read. Decremented by every yield point. */
  countdown: number;
  /** RUN, PREEMPT or SPENT. */
  reason: number;
  /** Bumped (modulo 2^30, so it stays a small integer) by every yield point an async task passes without giving way. */
  activity: number;
}

/**
 * A budget is an object literal of its own rather than fields of the engine: every budget comes from this one
 * literal, so all have one shape for the life of the process. The engine's own shape may be rebuilt by V8 between
 * schedulers, which would make the loops that read the budget at every yield point polymorphic.
 */
function newBudget(): Budget {
  return { countdown: 1, reason: SPENT, activity: 0 };
}

export class SchedulerEngine {
  /** The yield points' countdown, reason to give way and activity. */
  readonly budget: Budget = newBudget();
  /** The countdown's last starting value. */
  #interval = 1;
  #deadline = 0;
  #lastCheck = 0;
  /** The latest clock reading, for aging. */
  #clock = 0;
  /** Yield points passed, up to the last (re)arming of the countdown. */
  #passed = 0;
  #slicePassedBase = 0;
  /** The async task resumed last, presumed running in microtasks until it parks, finishes or goes quiet. */
  inflight: TaskImpl | null = null;
  #seen = 0;
  #looked = false;

  /** Ready tasks, one FIFO per priority (0 = high). */
  readonly #queues = [new WaitQueue<TaskImpl>(), new WaitQueue<TaskImpl>(), new WaitQueue<TaskImpl>()];
  /** Tasks spawned since the current slice began; they join the run queues when the next one starts. */
  readonly #incoming = new WaitQueue<TaskImpl>();
  /** Every task spawned and not yet settled. */
  readonly live = new Set<TaskImpl>();
  #draining = false;
  /** True until the current slice has run a task: every slice runs at least one, whatever its budget. */
  #fresh = false;
  #drainQueued = false;
  #sliceQueued = false;
  closed = false;
  #idleWaiters: (() => void)[] = [];

  // statistics
  spawned = 0;
  completed = 0;
  failed = 0;
  cancelled = 0;
  slices = 0;
  #sliceStart = 0;
  #sliceLast = 0;
  #busy = 0;
  #longest = 0;
  #overran = 0;

  readonly #checkMs: number;

  constructor(
    readonly sliceMs: number,
    readonly agingMs: number,
    readonly sliceYields: number,
  ) {
    this.#checkMs = sliceMs / 50;
  }

  /**
   * Reads the clock once the countdown has run out; true when yield points must give way. Callers write
   * `--budget.countdown <= 0 && engine.checkClock()` so that the common case never calls it.
   */
  checkClock(): boolean {
    this.#passed += this.#interval - this.budget.countdown;
    if (this.budget.reason !== RUN) {
      this.#interval = this.budget.countdown = 0;
      return true;
    }
    const t = (this.#clock = this.#sliceLast = now());
    const timeLeft = this.#deadline - t;
    const yieldsLeft = this.sliceYields - (this.#passed - this.#slicePassedBase);
    if (timeLeft <= 0 || yieldsLeft <= 0) {
      this.budget.reason = SPENT;
      this.#interval = this.budget.countdown = 0;
      return true;
    }
    const elapsed = t - this.#lastCheck;
    this.#lastCheck = t;
    let next = this.#interval * 2 || 1;
    if (elapsed > 0)
      next = Math.min(next, Math.floor((Math.min(this.#checkMs, timeLeft) * this.#interval) / elapsed));
    this.#interval = this.budget.countdown = Math.max(1, Math.min(next, MAX_INTERVAL, yieldsLeft));
    return false;
  }

  /** Makes every yield point give way from now on (until the drain or the next slice clears it). */
  stop(reason: number): void {
    this.#rearm(0);
    this.budget.reason = reason;
  }

  /** Adds the yield points passed under the current countdown to the total, then starts a countdown of `count`. */
  #rearm(count: number): void {
    this.#passed += this.#interval - this.budget.countdown;
    this.#interval = this.budget.countdown = count;
  }

  /** A newly spawned task: it starts in the next slice. */
  admit(task: TaskImpl): void {
    this.live.add(task);
    this.#incoming.push(task);
    task.queue = this.#incoming;
    this.#scheduleSlice();
  }

  /** A started task is ready to run again (its awaited value arrived, or it gave way). */
  ready(task: TaskImpl): void {
    if (this.inflight === task) this.inflight = null;
    const idle = !this.#draining && !this.#drainQueued;
    if (idle) this.#clock = now();
    task.readyAt = this.#clock;
    const queue = this.#queues[task.level]!;
    queue.push(task);
    task.queue = queue;
    const inflight = this.inflight;
    if (inflight !== null && task.level < inflight.level && this.budget.reason === RUN) this.stop(PREEMPT);
    if (idle) this.#wake();
  }

  /** Notes that `task` now runs in microtasks, outside the drain; `seen` is the activity count before it ran. */
  setInflight(task: TaskImpl, seen = this.budget.activity): void {
    this.inflight = task;
    this.#seen = seen;
    this.#looked = false;
  }

  settled(task: TaskImpl, status: 'done' | 'failed' | 'cancelled'): void {
    if (this.inflight === task) {
      this.inflight = null;
      if (!this.#draining && !this.#drainQueued) {
        this.#clock = now();
        this.#wake();
      }
    }
    if (status === 'done') this.completed++;
    else if (status === 'failed') this.failed++;
    else this.cancelled++;
    if (this.live.delete(task) && this.live.size === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Resolves once no task is left unsettled. */
  whenIdle(): Promise<void> {
    if (this.live.size === 0) return resolved();
    return new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Tasks queued for the CPU (spawned and not started, or ready to resume). */
  get queued(): number {
    return (
      this.#incoming.length + this.#queues[0]!.length + this.#queues[1]!.length + this.#queues[2]!.length
    );
  }

  /** Yield points passed so far. */
  get yields(): number {
    return this.#passed + this.#interval - this.budget.countdown;
  }

  /** Slice statistics, counting the slice in progress. */
  sliceStats(): { busy: number; longest: number; overran: number } {
    const open = this.slices > 0 ? this.#sliceLast - this.#sliceStart : 0;
    return {
      busy: this.#busy + open,
      longest: Math.max(this.#longest, open),
      overran: this.#overran + (open > 2 * this.sliceMs ? 1 : 0),
    };
  }

  /** Runs the drain soon: in a microtask while the slice lasts, else in the next slice. */
  #wake(): void {
    if (this.budget.reason !== SPENT && this.#clock < this.#deadline) this.#queueDrain();
    else this.#scheduleSlice();
  }

  #scheduleSlice(): void {
    if (this.#sliceQueued) return;
    this.#sliceQueued = true;
    queueMacrotask(this.#runSlice);
  }

  #queueDrain(): void {
    if (this.#drainQueued) return;
    this.#drainQueued = true;
    queueMicrotask(this.#drainJob);
  }

  readonly #drainJob = (): void => {
    this.#drainQueued = false;
    this.#drain();
  };

  readonly #runSlice = (): void => {
    this.#sliceQueued = false;
    // A macrotask runs only once no microtask is left, so no async task is running now.
    this.inflight = null;
    if (this.queued === 0) return;
    if (this.slices > 0) {
      const length = this.#sliceLast - this.#sliceStart;
      this.#busy += length;
      if (length > this.#longest) this.#longest = length;
      if (length > 2 * this.sliceMs) this.#overran++;
    }
    this.slices++;
    const t = now();
    this.#clock = this.#lastCheck = this.#sliceStart = this.#sliceLast = t;
    this.#deadline = t + this.sliceMs;
    this.budget.reason = RUN;
    this.#rearm(1);
    this.#slicePassedBase = this.#passed;
    this.#fresh = true;
    for (let task = this.#incoming.shift(); task !== undefined; task = this.#incoming.shift()) {
      task.readyAt = t;
      const queue = this.#queues[task.level]!;
      queue.push(task);
      task.queue = queue;
    }
    this.#drain();
  };

  /** Runs ready tasks, best first, while the slice lasts. */
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.budget.reason !== SPENT) {
        this.budget.reason = RUN;
        if (this.queued === this.#incoming.length) {
          this.#sliceLast = now();
          break;
        }
        if (this.inflight !== null) {
          if (this.budget.activity !== this.#seen) {
            // Busy: wait until it parks or finishes (either wakes the drain) or goes quiet (the next slice runs).
            this.#scheduleSlice();
            return;
          }
          if (!this.#looked) {
            // Give it one microtask turn to show whether it is busy.
            this.#looked = true;
            this.#queueDrain();
            return;
          }
          this.inflight = null; // quiet: awaiting something else
        }
        // A task switch counts as a yield point, so a stream of short tasks also respects the slice.
        if (!this.#fresh && --this.budget.countdown <= 0 && this.checkClock()) break;
        this.#fresh = false;
        if (this.budget.countdown > SWITCH_INTERVAL) this.#rearm(SWITCH_INTERVAL);
        this.#pick().run();
      }
    } finally {
      this.#draining = false;
    }
    if (this.#incoming.length > 0 || (this.budget.reason === SPENT && this.queued > 0)) this.#scheduleSlice();
  }

  /**
   * The next task to run: the head of the best queue, where a task's level improves by one for every `agingMs` it
   * has waited (so `low` work is never starved); ties go to the task that has waited longest.
   */
  #pick(): TaskImpl {
    let best: TaskImpl | undefined;
    let bestLevel = Infinity;
    for (let level = 0; level < 3; level++) {
      const head = this.#queues[level]!.peek();
      if (head === undefined) continue;
      const effective = level - Math.max(0, Math.floor((this.#clock - head.readyAt) / this.agingMs));
      if (effective < bestLevel || (effective === bestLevel && head.readyAt < best!.readyAt)) {
        best = head;
        bestLevel = effective;
      }
    }
    best!.unlink();
    return best!;
  }
}

/**
 * The hot loop of generator tasks, kept small and apart so that it stays optimised: resumes `gen` through its yield
 * points while the slice lasts. Returns the step that needs attention: the last one, a yielded promise, or the yield
 * point where the slice ran out. The countdown is kept in a local while the loop runs; a stop (the task cancelled
 * from its own code) is still seen at the next yield point through `budget.reason`. `next` is `gen.next`, looked up
 * once: every generator function gives its objects a shape of their own.
 */
export function spinGenerator(
  engine: SchedulerEngine,
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
