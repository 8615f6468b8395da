import { timerDelay } from '../internal/waiter.js';
import { isIdle } from './dispatch-rules.js';
import type { EngineOptions } from './options.js';
import type { PoolHistory, PoolStats } from './stats.js';
import type { Transport, WorkerEvents } from './transport.js';
import { PoolWorker } from './worker.js';

/**
 * The workers of one pool: starting them through the transport, counting the live ones, stopping them, and
 * stopping those idle longer than `idleTimeout` above `minThreads`. What runs on them is the engine's business.
 */
export class WorkerSet {
  /** Every worker not yet exited, in start order. */
  readonly list: PoolWorker[] = [];
  private nextId = 1;

  constructor(
    private readonly transport: Transport,
    private readonly options: EngineOptions,
    /** The callbacks of a new worker. */
    private readonly eventsOf: (worker: PoolWorker) => WorkerEvents,
  ) {}

  /** Starts a worker; one that cannot even be created exits (code 1) in a microtask. */
  spawn(): PoolWorker {
    const worker = new PoolWorker(this.nextId++);
    this.list.push(worker);
    const events = this.eventsOf(worker);
    const options = { ...this.options.spawn, name: `${this.options.spawn.name} #${worker.id}` };
    try {
      worker.handle = this.transport.spawn(this.options.worker, worker.init, options, events);
    } catch (error) {
      worker.error = error;
      queueMicrotask(() => events.onExit(1));
    }
    return worker;
  }

  /** Workers starting or ready. */
  live(): number {
    let live = 0;
    for (const worker of this.list) if (worker.live) live++;
    return live;
  }

  /** Workers whose running task was abandoned (aborted, timed out): they are busy until it lets go. */
  heldByAbandoned(): number {
    let held = 0;
    for (const worker of this.list) if (worker.inflight.peek()?.abandoned === true) held++;
    return held;
  }

  /** The pool's snapshot: threads and busy ones counted here, `pending` tasks (started or not) and the history. */
  stats(history: PoolHistory, pending: number, maxThreads: number): PoolStats {
    let threads = 0;
    let busy = 0;
    let started = 0;
    for (const worker of this.list) {
      if (worker.live) threads++;
      const head = worker.running();
      if (head !== undefined) {
        busy++;
        if (head.state !== 'done') started++;
      }
    }
    return history.snapshot(threads, busy, pending - started, maxThreads);
  }

  /** Asks `worker` to end (its exit is reported as planned). */
  stop(worker: PoolWorker): void {
    if (!worker.live) return;
    worker.state = 'stopping';
    worker.clearTimers();
    worker.handle?.terminate();
  }

  /** `worker` exited: forget it. */
  exited(worker: PoolWorker): void {
    worker.state = 'exited';
    worker.clearTimers();
    this.list.splice(this.list.indexOf(worker), 1);
  }

  /** `worker` has nothing to do: it no longer keeps the process alive, and its idle timeout starts. */
  becameIdle(worker: PoolWorker): void {
    worker.setReferenced(false);
    worker.idleSince = performance.now();
    if (worker.idleTimer === undefined && this.options.idleTimeout !== Infinity) {
      this.armIdleTimer(worker, timerDelay(this.options.idleTimeout));
    }
  }

  /** @internal Called by the idle timer of `worker`. */
  idleCheck(worker: PoolWorker): void {
    worker.idleTimer = undefined;
    if (!isIdle(worker) || this.live() <= this.options.minThreads) return;
    const left = worker.idleSince + this.options.idleTimeout - performance.now();
    if (left > 1) this.armIdleTimer(worker, left);
    else this.stop(worker);
  }

  private armIdleTimer(worker: PoolWorker, ms: number): void {
    worker.idleTimer = setTimeout(onIdleCheck, ms, this, worker);
    (worker.idleTimer as { unref?: () => void }).unref?.();
  }
}

function onIdleCheck(workers: WorkerSet, worker: PoolWorker): void {
  workers.idleCheck(worker);
}
