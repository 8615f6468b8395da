/**
 * The scheduling engine behind `WorkerPool`: the task queue, dispatch in batches with an adaptive per-worker
 * window, work stealing of tasks a busy worker has not started, cancellation, crash recovery and statistics.
 * It knows workers only through a {@link Transport}; the rules it applies are in dispatch-rules.ts.
 *
 * ## Task life cycle
 *
 * A task is `waiting` in the engine's queue, `sent` to a worker, or `done` (settled, exactly once). A sent task sits
 * in its worker's in-flight list and in a slot of the worker's shared table (protocol.ts), whose state says whether
 * it has started. Rows: where the task is; columns: the state of the worker it is on (or could go to).
 *
 * | task                    | worker `starting` | worker `ready`                            | `stopping`, `exited`   |
 * | ----------------------- | ----------------- | ----------------------------------------- | ---------------------- |
 * | `waiting`               | stays queued      | dispatch sends it: `sent`, slot QUEUED    | stays queued           |
 * | `sent`, slot QUEUED     | -                 | it starts: slot RUNNING; cancel: `done`;  | exit: `waiting` again  |
 * |                         |                   | stolen: `waiting` again (slot REVOKED)    |                        |
 * | `sent`, slot RUNNING    | -                 | answer: `done`; cancel: `done`, abandoned | exit: `done` (crashed) |
 * | abandoned (`done`, or a | -                 | its answer frees the slot; still running  | exit frees the slot    |
 * | stream being stopped)   |                   | after `abortGrace`: the worker is stopped |                        |
 *
 * "Crashed" is a rejection with `WorkerCrashedError`; a worker that exits is replaced while tasks wait. A `done` task
 * holds no slot, no timer and no arguments. A stream whose consumer stopped is `done` only once its worker let go of
 * it (it settles as completed).
 *
 * Invariants: a task is in at most one queue or in-flight list; `pending` counts the tasks accepted and not `done`;
 * a worker's in-flight list is in the order it runs them, so its head is the running one (or the next); only the
 * head has a run-time timer.
 */
import { abortError, timeoutError, timerDelay } from '../internal/waiter.js';
import { resolved } from '../internal/promise.js';
import { PoolClosedError } from '../errors.js';
import { crashError, startFailedError } from './crash.js';
import {
  INITIAL_AVERAGE_RUN,
  dispatchTasks,
  isIdle,
  nextAverageRun,
  stealCount,
  stealVictim,
  threadsWanted,
  windowSize,
} from './dispatch-rules.js';
import { ExposedFunctions, unknownFunction } from './functions.js';
import type { EngineOptions } from './options.js';
import type { PoolTask } from './pool-task.js';
import {
  MSG_ABORT,
  MSG_CREDIT,
  MSG_READY,
  MSG_RESULTS,
  MSG_TASKS,
  STATUS_OK,
  STATUS_YIELD,
  SHARED_SLOTS,
  addTask,
  deserializeError,
  entryAlone,
  entryCount,
  entrySlot,
  newBatch,
  resultRunMs,
  resultStatus,
  resultValue,
  serializeError,
} from './protocol.js';
import { PoolHistory, type PoolStats } from './stats.js';
import { TaskQueue } from './task-queue.js';
import type { Transport } from './transport.js';
import type { PoolWorker } from './worker.js';
import { WorkerSet } from './worker-set.js';

export class PoolEngine {
  private readonly workers: WorkerSet;
  private readonly queue = new TaskQueue();
  /** Accepted tasks not yet settled. */
  private pending = 0;
  private dispatchScheduled = false;
  private readonly dispatchLater = (): void => this.dispatch();
  private readonly sendTasks = (worker: PoolWorker, count: number): number => this.send(worker, count);
  /** Set when a worker failed to start; cleared by a new task or a worker that starts. */
  private spawnBlocked = false;
  /** Exponentially weighted mean run time of recent tasks (ms): sets how deep workers are fed. */
  private averageRun = INITIAL_AVERAGE_RUN;
  private readonly functions = new ExposedFunctions();
  private readonly history = new PoolHistory();

  closed = false;
  get taskTimeout(): number {
    return this.options.taskTimeout;
  }
  private forced = false;
  private closing: Promise<void> | undefined = undefined;
  private resolveClosing: (() => void) | undefined = undefined;

  constructor(
    transport: Transport,
    private readonly options: EngineOptions,
  ) {
    this.workers = new WorkerSet(transport, options, (worker) => ({
      onMessage: (message) => this.onMessage(worker, message),
      onError: (error) => {
        worker.error = error;
      },
      onExit: (code, signal) => this.onExit(worker, code, signal),
    }));
    this.spawnIfNeeded();
  }

  /** The error a new task must reject with, or `undefined` if the pool can take it. */
  refusal(): Error | undefined {
    if (this.closed) return new PoolClosedError('WorkerPool: the pool is closed');
    return undefined;
  }

  /** Whether one more task would exceed `maxThreads + maxQueue` accepted tasks. */
  isFull(): boolean {
    return this.pending >= this.options.maxThreads + this.options.maxQueue;
  }

  submit(task: PoolTask): void {
    this.pending++;
    this.spawnBlocked = false;
    this.queue.push(task);
    this.scheduleDispatch();
  }

  /**
   * Dispatches once the current synchronous run of submissions is over, so that they leave in one batch. A reaction
   * on a settled promise rather than `queueMicrotask`, which in Node allocates an async resource per call.
   */
  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    void resolved().then(this.dispatchLater);
  }

  private window(): number {
    return windowSize(this.averageRun, SHARED_SLOTS);
  }

  private dispatch(): void {
    this.dispatchScheduled = false;
    dispatchTasks(this.workers.list, this.queue.length, this.window(), this.sendTasks);
    this.spawnIfNeeded();
    if (this.queue.length === 0) this.steal();
  }

  /** Sends up to `count` waiting tasks to `worker` in one message; returns how many left the queue. */
  private send(worker: PoolWorker, count: number): number {
    const batch = newBatch(MSG_TASKS);
    let transfer: Transferable[] | undefined;
    const wasIdle = worker.load === 0;
    const functions = worker.functions!;
    let taken = 0;
    while (taken < count) {
      const task = this.queue.shift();
      if (task === undefined) break;
      taken++;
      const index = functions.get(task.name);
      if (index === undefined) {
        this.settle(task, false, unknownFunction(task.operation, task.name, functions));
        continue;
      }
      task.state = 'sent';
      addTask(batch, worker.assign(task), index, task.mode, task.args);
      if (task.transfer !== undefined) (transfer ??= []).push(...task.transfer);
    }
    if (entryCount(batch) > 0) {
      try {
        worker.handle!.post(batch, transfer);
      } catch {
        this.sendOneByOne(worker, batch);
      }
      if (wasIdle && worker.load > 0) {
        worker.setReferenced(true);
        this.armHead(worker);
      }
    }
    return taken;
  }

  /** A batch could not be cloned: send its tasks one at a time so that only the bad ones fail. */
  private sendOneByOne(worker: PoolWorker, batch: unknown[]): void {
    for (let entry = 0, count = entryCount(batch); entry < count; entry++) {
      const task = worker.bySlot[entrySlot(batch, entry)]!;
      try {
        worker.handle!.post(entryAlone(batch, entry), task.transfer);
      } catch (error) {
        worker.release(task);
        this.settle(task, false, error);
      }
    }
  }

  /** Starts the run-time limit of the task a worker runs now (its timeout counts from its start). */
  private armHead(worker: PoolWorker): void {
    const head = worker.inflight.peek();
    if (head === undefined || head.timeout === Infinity || head.timer !== undefined || head.abandoned) return;
    head.timer = setTimeout(onTaskTimeout, timerDelay(head.timeout), head);
  }

  /** Each idle worker takes half of the not-yet-started tasks of the most loaded worker. */
  private steal(): void {
    if (this.workers.list.length < 2) return;
    for (const thief of this.workers.list) {
      if (!isIdle(thief)) continue;
      const victim = stealVictim(this.workers.list, thief);
      if (victim === undefined) return;
      const want = stealCount(victim, thief, this.window());
      let stolen = 0;
      let task = victim.inflight.peek();
      task = task && victim.inflight.after(task);
      while (task !== undefined && stolen < want) {
        const next = victim.inflight.after(task);
        if (!task.abandoned && victim.revoke(task)) {
          this.queue.pushReturned(task);
          stolen++;
        }
        task = next;
      }
      if (stolen > 0) this.send(thief, stolen);
    }
  }

  /** Starts workers up to what the pending tasks (and `minThreads`) call for. */
  private spawnIfNeeded(): void {
    if (this.forced || this.spawnBlocked) return;
    const { minThreads, maxThreads } = this.options;
    // A worker held by an abandoned task cannot take a pending one.
    const demand = this.pending + this.workers.heldByAbandoned();
    const want = threadsWanted(demand, minThreads, maxThreads, this.closed);
    for (let live = this.workers.live(); live < want; live++) this.workers.spawn();
  }

  private onMessage(worker: PoolWorker, message: unknown[]): void {
    if (worker.state === 'exited') return;
    if (message[0] === MSG_RESULTS) this.onResults(worker, message);
    else if (message[0] === MSG_READY) this.onReady(worker, message[1] as string[], message[2] as number[]);
  }

  private onReady(worker: PoolWorker, names: string[], kinds: number[]): void {
    if (worker.state !== 'starting') return;
    worker.state = 'ready';
    worker.everReady = true;
    worker.functions = this.functions.learn(names, kinds);
    this.spawnBlocked = false;
    this.workers.becameIdle(worker);
    this.dispatch();
  }

  private onResults(worker: PoolWorker, batch: unknown[]): void {
    const now = performance.now();
    for (let entry = 0, count = entryCount(batch); entry < count; entry++) {
      const task = worker.bySlot[entrySlot(batch, entry)];
      if (task === undefined) continue;
      const status = resultStatus(batch, entry);
      if (status === STATUS_YIELD) {
        if (!task.abandoned) task.reader?.push(resultValue(batch, entry));
        continue;
      }
      worker.release(task);
      worker.answered++;
      clearTaskTimer(task);
      if (task.abandoned) {
        if (task.stopping) this.settle(task, true, undefined);
        continue;
      }
      const runMs = resultRunMs(batch, entry);
      this.history.recordRun(runMs, now - task.submitted - runMs);
      this.averageRun = nextAverageRun(this.averageRun, runMs);
      if (status === STATUS_OK) this.settle(task, true, resultValue(batch, entry));
      else this.settle(task, false, deserializeError(resultValue(batch, entry)));
    }
    if (worker.graceTimer !== undefined && worker.inflight.peek()?.abandoned !== true) {
      clearTimeout(worker.graceTimer);
      worker.graceTimer = undefined;
    }
    this.afterHeadChange(worker);
    this.dispatch();
  }

  private afterHeadChange(worker: PoolWorker): void {
    this.armHead(worker);
    if (worker.load === 0) this.workers.becameIdle(worker);
    // A task cancelled while queued in a worker that could not give it back (a child process) now runs there.
    else if (worker.inflight.peek()!.abandoned) this.armGrace(worker);
  }

  private onExit(worker: PoolWorker, exitCode: number, signal?: string): void {
    if (worker.state === 'exited') return;
    const planned = worker.state === 'stopping';
    this.workers.exited(worker);
    let ranTask = false;
    for (let task = worker.inflight.peek(); task !== undefined;) {
      const next = worker.inflight.after(task);
      const running = worker.isRunning(task);
      worker.release(task);
      clearTaskTimer(task);
      if (running || task.abandoned) ranTask = true;
      if (task.abandoned) {
        if (task.stopping) this.settle(task, true, undefined);
      } else if (running) {
        this.settle(task, false, crashError(worker, exitCode, signal, task.operation));
      } else {
        this.queue.pushReturned(task);
      }
      task = next;
    }
    if (!planned) {
      this.history.crashed++;
      if (!ranTask && worker.answered === 0) this.startFailed(worker, exitCode, signal);
    }
    if (this.workers.live() === 0) this.functions.wake();
    this.closeIfDone();
    if (!this.forced) this.scheduleDispatch();
  }

  /** A worker died before doing any work: don't respawn in a loop; fail the queue if no worker is left. */
  private startFailed(worker: PoolWorker, exitCode: number, signal: string | undefined): void {
    this.spawnBlocked = true;
    if (this.workers.live() > 0) return;
    const file = String(this.options.worker);
    for (let task = this.queue.shift(); task !== undefined; task = this.queue.shift()) {
      this.settle(task, false, startFailedError(worker, exitCode, signal, file));
    }
  }

  /** Abort or timeout of `task` wherever it is. */
  cancel(task: PoolTask, reason: unknown): void {
    if (task.state === 'done') return;
    task.reader?.discard();
    if (this.takeBack(task, false, reason)) return;
    this.abandon(task.worker!, task, reason);
    this.settle(task, false, reason);
  }

  /** The consumer of a stream stopped early: end it as completed once its worker lets go. */
  stopStream(task: PoolTask): void {
    if (task.state === 'done' || task.abandoned) return;
    if (this.takeBack(task, true, undefined)) return;
    task.stopping = true;
    this.abandon(task.worker!, task, abortError('WorkerPool.stream: the consumer stopped reading'));
  }

  /** Settles `task` if it has not started (it is still queued here or in its worker); false if it is running. */
  private takeBack(task: PoolTask, ok: boolean, value: unknown): boolean {
    if (task.state === 'waiting') {
      this.queue.remove(task);
      this.settle(task, ok, value);
      return true;
    }
    const worker = task.worker!;
    if (!worker.revoke(task)) return false;
    this.settle(task, ok, value);
    this.afterHeadChange(worker);
    this.scheduleDispatch();
    return true;
  }

  /** Grants a running stream credit for more values. */
  credit(task: PoolTask, values: number): void {
    const worker = task.worker;
    if (task.state !== 'sent' || worker === null || worker.handle === undefined) return;
    worker.handle.post([MSG_CREDIT, task.slot, values]);
  }

  /** Tells the worker to stop `task` and gives it `abortGrace` ms before it is terminated. */
  private abandon(worker: PoolWorker, task: PoolTask, reason: unknown): void {
    task.abandoned = true;
    clearTaskTimer(task);
    try {
      worker.handle?.post([MSG_ABORT, task.slot, serializeError(reason)]);
    } catch {
      worker.handle?.post([MSG_ABORT, task.slot, serializeError(abortError())]);
    }
    this.armGrace(worker);
  }

  private armGrace(worker: PoolWorker): void {
    if (worker.graceTimer === undefined && this.options.abortGrace !== Infinity) {
      worker.graceTimer = setTimeout(onGraceExpired, timerDelay(this.options.abortGrace), this, worker);
    }
  }

  /** @internal The grace period of a cancelled task ran out: replace its worker if it is still on it. */
  graceExpired(worker: PoolWorker): void {
    worker.graceTimer = undefined;
    if (worker.inflight.peek()?.abandoned === true) this.workers.stop(worker);
  }

  private settle(task: PoolTask, ok: boolean, value: unknown): void {
    if (task.state === 'done') return;
    task.state = 'done';
    clearTaskTimer(task);
    task.dropPayload();
    this.pending--;
    if (ok) {
      this.history.completed++;
      task.grant(value);
    } else {
      this.history.failed++;
      task.fail(value);
    }
    if (this.closed && this.pending === 0) this.closeIfDone();
  }

  /** Resolves when the exposed functions' kinds are known (or no worker could start). */
  whenKindsKnown(): Promise<void> {
    if (this.functions.known || this.forced) return resolved();
    if (this.workers.live() === 0) {
      // Nobody will report the kinds unless a worker starts; after close() no worker will.
      if (this.closed) return resolved();
      this.spawnBlocked = false;
      this.workers.spawn();
    }
    return this.functions.nextWake();
  }

  /** Whether `name` is a generator function, when known. */
  isGenerator(name: string): boolean | undefined {
    return this.functions.isGenerator(name);
  }

  close(force: boolean): Promise<void> {
    this.closed = true;
    this.closing ??= new Promise<void>((resolve) => (this.resolveClosing = resolve));
    if (force && !this.forced) this.forceClose();
    this.closeIfDone();
    return this.closing;
  }

  private forceClose(): void {
    this.forced = true;
    for (let task = this.queue.shift(); task !== undefined; task = this.queue.shift()) {
      this.settle(task, false, forcedClose('before the task started'));
    }
    for (const worker of this.workers.list) {
      for (let task = worker.inflight.peek(); task !== undefined; task = worker.inflight.after(task)) {
        if (task.state === 'done') continue;
        task.abandoned = true;
        task.reader?.discard();
        if (task.stopping) this.settle(task, true, undefined);
        else this.settle(task, false, forcedClose('while the task ran'));
      }
    }
    this.functions.wake();
  }

  private closeIfDone(): void {
    if (!this.closed || this.pending > 0) return;
    for (const worker of this.workers.list) this.workers.stop(worker);
    if (this.workers.list.length === 0 && this.resolveClosing !== undefined) {
      const resolve = this.resolveClosing;
      this.resolveClosing = undefined;
      resolve();
    }
  }

  stats(): PoolStats {
    return this.workers.stats(this.history, this.pending, this.options.maxThreads);
  }
}

function forcedClose(when: string): PoolClosedError {
  return new PoolClosedError(`WorkerPool: closed with { force: true } ${when}`);
}

function clearTaskTimer(task: PoolTask): void {
  if (task.timer === undefined) return;
  clearTimeout(task.timer);
  task.timer = undefined;
}

function onTaskTimeout(task: PoolTask): void {
  task.timer = undefined;
  task.cancel(timeoutError(task.operation, task.timeout));
}

function onGraceExpired(engine: PoolEngine, worker: PoolWorker): void {
  engine.graceExpired(worker);
}
