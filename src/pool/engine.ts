/**
 * The scheduling engine behind `WorkerPool`: the task queue, dispatch in batches with an adaptive per-worker
 * window, work stealing of tasks a busy worker has not started, cancellation, crash recovery and statistics.
 * It knows workers only through a {@link Transport}.
 */
import { abortError, timeoutError, timerDelay } from '../internal/cancel.js';
import { resolved } from '../internal/promise.js';
import { WaitQueue } from '../internal/wait-queue.js';
import { PoolClosedError, WorkerCrashedError, type WorkerCrashedErrorOptions } from '../errors.js';
import {
  KIND_GENERATOR,
  MSG_ABORT,
  MSG_CREDIT,
  MSG_READY,
  MSG_RESULTS,
  MSG_TASKS,
  STATUS_OK,
  STATUS_YIELD,
  SHARED_SLOTS,
  deserializeError,
  serializeError,
} from './protocol.js';
import { Histogram, type PoolStats } from './stats.js';
import { TASK_DONE, TASK_SENT, TASK_WAITING, type Task } from './task.js';
import type { SpawnOptions, Transport, WorkerEvents } from './transport.js';
import { PoolWorker, WORKER_EXITED, WORKER_READY, WORKER_STARTING, WORKER_STOPPING } from './worker.js';

/** Work (by the average task run time) worth queueing inside one worker ahead of its current task (ms). */
const PIPELINE_BUDGET_MS = 1;
/** Most tasks sent to one worker and not yet answered. */
const MAX_WINDOW = 64;
/** setTimeout's largest delay. */

/** Options after validation and defaults. */
export interface EngineOptions {
  worker: URL | string;
  minThreads: number;
  maxThreads: number;
  idleTimeout: number;
  maxQueue: number;
  taskTimeout: number;
  abortGrace: number;
  spawn: SpawnOptions;
}

export class Engine {
  private readonly workers: PoolWorker[] = [];
  /** New tasks, and tasks taken back from a worker (these go first). */
  private readonly waiting = new WaitQueue<Task>();
  private readonly retry = new WaitQueue<Task>();
  /** Accepted tasks not yet settled. */
  private pending = 0;
  private dispatchScheduled = false;
  private readonly dispatchLater = (): void => this.dispatch();
  private nextWorkerId = 1;
  /** Set when a worker failed to start; cleared by a new task or a worker that starts. */
  private spawnBlocked = false;
  /** Exponentially weighted mean run time of recent tasks (ms): sets how deep workers are fed. */
  private averageRun = PIPELINE_BUDGET_MS / 4;
  /** Function kinds by name, from the first worker that started. */
  private functionKinds: Map<string, number> | undefined = undefined;
  private functionNames: Map<string, number> | undefined = undefined;
  private kindWaiters: (() => void)[] = [];

  private completed = 0;
  private failed = 0;
  private crashed = 0;
  private readonly runTime = new Histogram();
  private readonly waitTime = new Histogram();
  private readonly created = performance.now();

  closed = false;
  get taskTimeout(): number {
    return this.options.taskTimeout;
  }
  private forced = false;
  private closing: Promise<void> | undefined = undefined;
  private resolveClosing: (() => void) | undefined = undefined;

  constructor(
    private readonly transport: Transport,
    private readonly options: EngineOptions,
  ) {
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

  submit(task: Task): void {
    this.pending++;
    this.spawnBlocked = false;
    this.waiting.push(task);
    this.scheduleDispatch();
  }

  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    queueMicrotask(this.dispatchLater);
  }

  private waitingCount(): number {
    return this.waiting.length + this.retry.length;
  }

  private nextWaiting(): Task | undefined {
    return this.retry.shift() ?? this.waiting.shift();
  }

  /** How many tasks a worker may hold: deep for tiny tasks, one at a time for long ones. */
  private window(): number {
    if (!SHARED_SLOTS) return 1; // a sent task cannot be taken back: queue nothing behind the running one
    const fit = Math.floor(PIPELINE_BUDGET_MS / this.averageRun);
    return fit < 1 ? 1 : fit > MAX_WINDOW ? MAX_WINDOW : fit;
  }

  private dispatch(): void {
    this.dispatchScheduled = false;
    let remaining = this.waitingCount();
    if (remaining > 0) {
      const window = this.window();
      let candidates = 0;
      for (const worker of this.workers) {
        if (worker.state === WORKER_READY && worker.inflight.length < window && worker.freeSlots() > 0)
          candidates++;
      }
      // Idle workers first, then the others; each gets an even share of what is waiting, up to its window.
      for (let pass = 0; pass < 2 && remaining > 0 && candidates > 0; pass++) {
        for (const worker of this.workers) {
          if (remaining === 0) break;
          const load = worker.inflight.length;
          if (worker.state !== WORKER_READY || load >= window || (pass === 0) !== (load === 0)) continue;
          const free = worker.freeSlots();
          if (free === 0) continue;
          // A worker topped up in the second pass was counted once already.
          const share = candidates > 1 ? Math.ceil(remaining / candidates--) : remaining;
          remaining -= this.send(worker, Math.min(share, window - load, free));
        }
      }
    }
    this.spawnIfNeeded();
    if (this.waitingCount() === 0) this.steal();
  }

  /** Sends up to `count` waiting tasks to `worker` in one message; returns how many left the queue. */
  private send(worker: PoolWorker, count: number): number {
    const message: unknown[] = [MSG_TASKS];
    let transfer: Transferable[] | undefined;
    const wasIdle = worker.inflight.length === 0;
    const functions = worker.functions!;
    let taken = 0;
    while (taken < count) {
      const task = this.nextWaiting();
      if (task === undefined) break;
      taken++;
      const index = functions.get(task.name);
      if (index === undefined) {
        this.settle(task, false, this.unknownFunction(task, functions));
        continue;
      }
      task.state = TASK_SENT;
      message.push(worker.assign(task), index, task.mode, task.args);
      if (task.transfer !== undefined) (transfer ??= []).push(...task.transfer);
    }
    if (message.length > 1) {
      try {
        worker.handle!.post(message, transfer);
      } catch {
        this.sendOneByOne(worker, message);
      }
      if (wasIdle && worker.inflight.length > 0) {
        worker.setReferenced(true);
        this.armHead(worker);
      }
    }
    return taken;
  }

  /** A batch could not be cloned: send its tasks one at a time so that only the bad ones fail. */
  private sendOneByOne(worker: PoolWorker, message: unknown[]): void {
    for (let i = 1; i < message.length; i += 4) {
      const task = worker.bySlot[message[i] as number]!;
      try {
        worker.handle!.post(
          [MSG_TASKS, message[i], message[i + 1], message[i + 2], message[i + 3]],
          task.transfer,
        );
      } catch (error) {
        worker.release(task);
        this.settle(task, false, error);
      }
    }
  }

  private unknownFunction(task: Task, functions: Map<string, number>): RangeError {
    const available = [...functions.keys()].join(', ');
    return new RangeError(
      `${task.operation}: the worker exposes no function named ${JSON.stringify(task.name)}; it exposes: ${available}`,
    );
  }

  /** Starts the run-time limit of the task a worker runs now (its timeout counts from its start). */
  private armHead(worker: PoolWorker): void {
    const head = worker.inflight.peek();
    if (head === undefined || head.timeout === Infinity || head.timer !== undefined || head.abandoned) return;
    head.timer = setTimeout(onTaskTimeout, timerDelay(head.timeout), head);
  }

  /** An idle worker takes half of the not-yet-started tasks of the most loaded worker. */
  private steal(): void {
    if (this.workers.length < 2) return;
    for (const thief of this.workers) {
      if (thief.state !== WORKER_READY || thief.inflight.length !== 0) continue;
      let victim: PoolWorker | undefined;
      let most = 0;
      for (const worker of this.workers) {
        const queued = worker.inflight.length - 1; // the head is running (or about to)
        if (worker !== thief && worker.state === WORKER_READY && queued > most) {
          victim = worker;
          most = queued;
        }
      }
      if (victim === undefined) return;
      const want = Math.min(Math.ceil(most / 2), this.window(), thief.freeSlots());
      let stolen = 0;
      let task = victim.inflight.peek();
      task = task && victim.inflight.after(task);
      while (task !== undefined && stolen < want) {
        const next = victim.inflight.after(task);
        if (!task.abandoned && victim.revoke(task)) {
          task.state = TASK_WAITING;
          this.retry.push(task);
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
    let live = 0;
    let occupied = 0;
    for (const worker of this.workers) {
      if (worker.state === WORKER_STARTING || worker.state === WORKER_READY) live++;
      const head = worker.inflight.peek();
      if (head !== undefined && head.abandoned) occupied++;
    }
    const floor = this.closed ? 0 : this.options.minThreads;
    const demand = this.pending + occupied;
    const want = Math.min(this.options.maxThreads, Math.max(floor, demand));
    for (; live < want; live++) this.spawn();
  }

  private spawn(): void {
    const worker = new PoolWorker(this.nextWorkerId++);
    this.workers.push(worker);
    const events: WorkerEvents = {
      onMessage: (message) => this.onMessage(worker, message),
      onError: (error) => {
        worker.error = error;
      },
      onExit: (code, signal) => this.onExit(worker, code, signal),
    };
    const options = { ...this.options.spawn, name: `${this.options.spawn.name} #${worker.id}` };
    try {
      worker.handle = this.transport.spawn(this.options.worker, worker.init, options, events);
    } catch (error) {
      worker.error = error;
      queueMicrotask(() => this.onExit(worker, 1));
    }
  }

  private onMessage(worker: PoolWorker, message: unknown[]): void {
    if (worker.state === WORKER_EXITED) return;
    if (message[0] === MSG_RESULTS) this.onResults(worker, message);
    else if (message[0] === MSG_READY) this.onReady(worker, message[1] as string[], message[2] as number[]);
  }

  private onReady(worker: PoolWorker, names: string[], kinds: number[]): void {
    if (worker.state !== WORKER_STARTING) return;
    worker.state = WORKER_READY;
    worker.everReady = true;
    let functions = this.functionNames;
    if (
      functions === undefined ||
      functions.size !== names.length ||
      names.some((n, i) => functions!.get(n) !== i)
    ) {
      functions = new Map(names.map((name, index) => [name, index]));
    }
    worker.functions = functions;
    if (this.functionNames === undefined) {
      this.functionNames = functions;
      this.functionKinds = new Map(names.map((name, index) => [name, kinds[index]!]));
      this.wakeKindWaiters();
    }
    this.spawnBlocked = false;
    this.becameIdle(worker);
    this.dispatch();
  }

  private onResults(worker: PoolWorker, message: unknown[]): void {
    const now = performance.now();
    for (let i = 1; i < message.length; i += 4) {
      const task = worker.bySlot[message[i] as number];
      if (task === undefined) continue;
      const status = message[i + 1] as number;
      if (status === STATUS_YIELD) {
        if (!task.abandoned) task.reader?.push(message[i + 2]);
        continue;
      }
      worker.release(task);
      worker.answered++;
      if (task.timer !== undefined) {
        clearTimeout(task.timer);
        task.timer = undefined;
      }
      if (task.abandoned) {
        if (task.stopping) this.settle(task, true, undefined);
        continue;
      }
      const runMs = message[i + 3] as number;
      this.runTime.record(runMs);
      this.waitTime.record(now - task.submitted - runMs);
      // A long task narrows the window at once; short ones widen it gradually.
      this.averageRun =
        runMs > PIPELINE_BUDGET_MS && runMs > this.averageRun
          ? runMs
          : this.averageRun + (runMs - this.averageRun) * 0.1;
      if (status === STATUS_OK) this.settle(task, true, message[i + 2]);
      else this.settle(task, false, deserializeError(message[i + 2]));
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
    if (worker.inflight.length === 0) this.becameIdle(worker);
    // A task cancelled while queued in a worker that could not give it back (a child process) now runs there.
    else if (worker.inflight.peek()!.abandoned) this.armGrace(worker);
  }

  private becameIdle(worker: PoolWorker): void {
    worker.setReferenced(false);
    worker.idleSince = performance.now();
    if (worker.idleTimer === undefined && this.options.idleTimeout !== Infinity) {
      worker.idleTimer = setTimeout(onIdleCheck, timerDelay(this.options.idleTimeout), this, worker);
      (worker.idleTimer as { unref?: () => void }).unref?.();
    }
  }

  /** @internal Called by the idle timer of `worker`. */
  idleCheck(worker: PoolWorker): void {
    worker.idleTimer = undefined;
    if (worker.state !== WORKER_READY || worker.inflight.length > 0) return;
    if (this.liveWorkers() <= this.options.minThreads) return;
    const left = worker.idleSince + this.options.idleTimeout - performance.now();
    if (left > 1) {
      worker.idleTimer = setTimeout(onIdleCheck, left, this, worker);
      (worker.idleTimer as { unref?: () => void }).unref?.();
      return;
    }
    this.stopWorker(worker);
  }

  private stopWorker(worker: PoolWorker): void {
    if (worker.state === WORKER_STOPPING || worker.state === WORKER_EXITED) return;
    worker.state = WORKER_STOPPING;
    this.clearWorkerTimers(worker);
    if (worker.handle === undefined) return;
    worker.handle.terminate();
  }

  private clearWorkerTimers(worker: PoolWorker): void {
    if (worker.idleTimer !== undefined) clearTimeout(worker.idleTimer);
    if (worker.graceTimer !== undefined) clearTimeout(worker.graceTimer);
    worker.idleTimer = worker.graceTimer = undefined;
  }

  private onExit(worker: PoolWorker, exitCode: number, signal?: string): void {
    if (worker.state === WORKER_EXITED) return;
    const planned = worker.state === WORKER_STOPPING;
    worker.state = WORKER_EXITED;
    this.clearWorkerTimers(worker);
    this.workers.splice(this.workers.indexOf(worker), 1);
    let ranTask = false;
    for (let task = worker.inflight.peek(); task !== undefined;) {
      const next = worker.inflight.after(task);
      const running = worker.isRunning(task);
      worker.release(task);
      if (task.timer !== undefined) {
        clearTimeout(task.timer);
        task.timer = undefined;
      }
      if (running || task.abandoned) ranTask = true;
      if (task.abandoned) {
        if (task.stopping) this.settle(task, true, undefined);
      } else if (running) {
        this.settle(task, false, this.crashError(worker, exitCode, task, signal));
      } else {
        task.state = TASK_WAITING;
        this.retry.push(task);
      }
      task = next;
    }
    if (!planned) {
      this.crashed++;
      if (!ranTask && worker.answered === 0) this.startFailed(worker, exitCode, signal);
    }
    if (this.liveWorkers() === 0) this.wakeKindWaiters();
    this.closeIfDone();
    if (!this.forced) this.scheduleDispatch();
  }

  private crashError(worker: PoolWorker, exitCode: number, task: Task, signal?: string): WorkerCrashedError {
    const cause = worker.error;
    const how = cause instanceof Error ? `died: ${cause.message}` : exitDescription(exitCode, signal);
    return new WorkerCrashedError(
      `${task.operation}: the worker ${how}`,
      crashOptions(cause, exitCode, signal),
    );
  }

  /** A worker died before doing any work: don't respawn in a loop; fail the queue if no worker is left. */
  private startFailed(worker: PoolWorker, exitCode: number, signal?: string): void {
    this.spawnBlocked = true;
    if (this.liveWorkers() > 0) return;
    const cause = worker.error;
    const detail =
      cause instanceof Error
        ? cause.message
        : worker.everReady
          ? exitDescription(exitCode, signal)
          : `${exitDescription(exitCode, signal)} before calling expose()`;
    const what = worker.everReady ? 'died before running any task' : 'failed to start';
    const file = String(this.options.worker);
    for (let task = this.nextWaiting(); task !== undefined; task = this.nextWaiting()) {
      const error = new WorkerCrashedError(
        `WorkerPool: the worker ${file} ${what}: ${detail}`,
        crashOptions(cause, exitCode, signal),
      );
      this.settle(task, false, error);
    }
  }

  private liveWorkers(): number {
    let live = 0;
    for (const w of this.workers) if (w.state === WORKER_STARTING || w.state === WORKER_READY) live++;
    return live;
  }

  /** Lets proxy calls waiting for the function kinds go on (they learn them, or fail the way `run` does). */
  private wakeKindWaiters(): void {
    const waiters = this.kindWaiters;
    this.kindWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Abort or timeout of `task` wherever it is. */
  cancel(task: Task, reason: unknown): void {
    if (task.state === TASK_DONE) return;
    task.reader?.discard();
    if (task.state === TASK_WAITING) {
      if (!this.waiting.remove(task)) this.retry.remove(task);
      this.settle(task, false, reason);
      return;
    }
    const worker = task.worker!;
    if (worker.revoke(task)) {
      this.settle(task, false, reason);
      this.afterHeadChange(worker);
      this.scheduleDispatch();
      return;
    }
    this.abandon(worker, task, reason);
    this.settle(task, false, reason);
  }

  /** The consumer of a stream stopped early: end it as completed once its worker lets go. */
  stopStream(task: Task): void {
    if (task.state === TASK_DONE || task.abandoned) return;
    if (task.state === TASK_WAITING) {
      if (!this.waiting.remove(task)) this.retry.remove(task);
      this.settle(task, true, undefined);
      return;
    }
    const worker = task.worker!;
    if (worker.revoke(task)) {
      this.settle(task, true, undefined);
      this.afterHeadChange(worker);
      this.scheduleDispatch();
      return;
    }
    task.stopping = true;
    this.abandon(worker, task, abortError('WorkerPool.stream: the consumer stopped reading'));
  }

  /** Grants a running stream credit for more values. */
  credit(task: Task, values: number): void {
    const worker = task.worker;
    if (task.state !== TASK_SENT || worker === null || worker.handle === undefined) return;
    worker.handle.post([MSG_CREDIT, task.slot, values]);
  }

  /** Tells the worker to stop `task` and gives it `abortGrace` ms before it is terminated. */
  private abandon(worker: PoolWorker, task: Task, reason: unknown): void {
    task.abandoned = true;
    if (task.timer !== undefined) {
      clearTimeout(task.timer);
      task.timer = undefined;
    }
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
    if (worker.inflight.peek()?.abandoned === true) this.stopWorker(worker);
  }

  private settle(task: Task, ok: boolean, value: unknown): void {
    if (task.state === TASK_DONE) return;
    task.state = TASK_DONE;
    if (task.timer !== undefined) {
      clearTimeout(task.timer);
      task.timer = undefined;
    }
    this.pending--;
    if (ok) {
      this.completed++;
      task.grant(value);
    } else {
      this.failed++;
      task.fail(value);
    }
    if (this.closed && this.pending === 0) this.closeIfDone();
  }

  /** Resolves when the exposed functions' kinds are known (or no worker could start). */
  whenKindsKnown(): Promise<void> {
    if (this.functionKinds !== undefined || this.forced) return resolved();
    if (this.liveWorkers() === 0) {
      // Nobody will report the kinds unless a worker starts; after close() no worker will.
      if (this.closed) return resolved();
      this.spawnBlocked = false;
      this.spawn();
    }
    return new Promise((resolve) => this.kindWaiters.push(resolve));
  }

  /** Whether `name` is a generator function, when known. */
  isGenerator(name: string): boolean | undefined {
    const kind = this.functionKinds?.get(name);
    return kind === undefined
      ? this.functionKinds === undefined
        ? undefined
        : false
      : kind === KIND_GENERATOR;
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
    for (let task = this.nextWaiting(); task !== undefined; task = this.nextWaiting()) {
      this.settle(
        task,
        false,
        new PoolClosedError('WorkerPool: closed with { force: true } before the task started'),
      );
    }
    for (const worker of this.workers) {
      for (let task = worker.inflight.peek(); task !== undefined; task = worker.inflight.after(task)) {
        if (task.state === TASK_DONE) continue;
        task.abandoned = true;
        task.reader?.discard();
        if (task.stopping) this.settle(task, true, undefined);
        else
          this.settle(
            task,
            false,
            new PoolClosedError('WorkerPool: closed with { force: true } while the task ran'),
          );
      }
    }
    this.wakeKindWaiters();
  }

  private closeIfDone(): void {
    if (!this.closed || this.pending > 0) return;
    for (const worker of this.workers) this.stopWorker(worker);
    if (this.workers.length === 0 && this.resolveClosing !== undefined) {
      const resolve = this.resolveClosing;
      this.resolveClosing = undefined;
      resolve();
    }
  }

  stats(): PoolStats {
    let threads = 0;
    let busy = 0;
    let started = 0;
    for (const worker of this.workers) {
      if (worker.state === WORKER_STARTING || worker.state === WORKER_READY) threads++;
      const head = worker.running();
      if (head !== undefined) {
        busy++;
        if (head.state !== TASK_DONE) started++;
      }
    }
    const elapsed = performance.now() - this.created;
    const capacity = elapsed * this.options.maxThreads;
    const utilization = capacity > 0 ? Math.min(1, this.runTime.sum / capacity) : 0;
    return {
      threads,
      busy,
      queued: this.pending - started,
      completed: this.completed,
      failed: this.failed,
      crashed: this.crashed,
      runTime: this.runTime.summary(),
      waitTime: this.waitTime.summary(),
      utilization,
    };
  }
}

/** How a worker ended, for crash messages: its exit code, or the signal that killed its process. */
function exitDescription(exitCode: number, signal: string | undefined): string {
  return signal === undefined ? `exited with code ${exitCode}` : `was killed by signal ${signal}`;
}

function crashOptions(
  cause: unknown,
  exitCode: number,
  signal: string | undefined,
): WorkerCrashedErrorOptions {
  return signal === undefined ? { cause, exitCode } : { cause, signal };
}

function onTaskTimeout(task: Task): void {
  task.timer = undefined;
  task.cancel(timeoutError(task.operation, task.timeout));
}

function onIdleCheck(engine: Engine, worker: PoolWorker): void {
  engine.idleCheck(worker);
}

function onGraceExpired(engine: Engine, worker: PoolWorker): void {
  engine.graceExpired(worker);
}
