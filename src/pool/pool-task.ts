import { Waiter } from '../internal/waiter.js';
import type { PoolEngine } from './pool-engine.js';
import { MODE_RUN, type TaskMode } from './protocol.js';
import type { StreamReader } from './stream.js';
import type { PoolWorker } from './worker.js';

/**
 * Where a task is: in the pool's queue (`waiting`), sent to a worker and queued or running there (`sent`), or
 * settled (`done`). The life cycle is tabled in pool-engine.ts.
 */
export type TaskState = 'waiting' | 'sent' | 'done';

const NO_ARGS: readonly unknown[] = [];

/**
 * One accepted task of a `WorkerPool`. It is a queue node (the pool's queue, then its worker's in-flight list) and
 * the waiter whose promise `run` returns; abort and timeout reach the engine through {@link PoolTask.cancel}.
 */
export class PoolTask extends Waiter<unknown> {
  state: TaskState = 'waiting';
  worker: PoolWorker | null = null;
  slot = -1;
  /** Run-time limit armed when the task starts; Infinity for none. */
  timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** Settled early (abort, timeout) while running; its worker still owes an answer. */
  abandoned = false;
  /** A stream whose consumer stopped early: it settles (as completed) once its worker lets go of it. */
  stopping = false;
  /** The consumer side, for stream tasks. */
  reader: StreamReader<unknown> | undefined = undefined;

  constructor(
    readonly engine: PoolEngine,
    readonly name: string,
    /** The arguments, dropped once the task is settled. */
    public args: readonly unknown[],
    readonly mode: TaskMode,
    readonly timeout: number,
    public transfer: readonly Transferable[] | undefined,
    readonly submitted: number,
  ) {
    super();
  }

  get operation(): string {
    return `WorkerPool.${this.mode === MODE_RUN ? 'run' : 'stream'}(${this.name})`;
  }

  cancel(reason: unknown): void {
    this.engine.cancel(this, reason);
  }

  /** Lets go of what the caller passed in and of the consumer, once the task is settled. */
  dropPayload(): void {
    this.args = NO_ARGS;
    this.transfer = undefined;
    this.reader = undefined;
  }
}
