import { Waiter } from '../internal/cancel.js';
import type { Engine } from './engine.js';
import type { StreamReader } from './stream.js';
import type { PoolWorker } from './worker.js';

/** Where a task is: in the pool's queue, sent to a worker (queued there or running), or settled. */
export const TASK_WAITING = 0;
export const TASK_SENT = 1;
export const TASK_DONE = 2;

/**
 * One accepted task. It is a queue node (the pool's queue, then its worker's in-flight list) and the waiter whose
 * promise `run` returns; abort and timeout reach the engine through {@link Task.cancel}.
 */
export class Task extends Waiter<unknown> {
  state = TASK_WAITING;
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
    readonly engine: Engine,
    readonly name: string,
    readonly args: readonly unknown[],
    readonly mode: number,
    readonly timeout: number,
    readonly transfer: readonly Transferable[] | undefined,
    readonly submitted: number,
  ) {
    super();
  }

  get operation(): string {
    return `WorkerPool.${this.reader === undefined ? 'run' : 'stream'}(${this.name})`;
  }

  cancel(reason: unknown): void {
    this.engine.cancel(this, reason);
  }
}
