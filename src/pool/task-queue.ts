import { WaitQueue } from '../internal/wait-queue.js';
import type { PoolTask } from './pool-task.js';

/**
 * The tasks of a pool that wait for a worker, in FIFO order, with tasks taken back from a worker (stolen, or left
 * behind by a worker that died) ahead of new ones: they were submitted earlier.
 */
export class TaskQueue {
  private readonly fresh = new WaitQueue<PoolTask>();
  private readonly returned = new WaitQueue<PoolTask>();

  get length(): number {
    return this.fresh.length + this.returned.length;
  }

  /** Queues a new task. */
  push(task: PoolTask): void {
    task.state = 'waiting';
    this.fresh.push(task);
  }

  /** Queues a task taken back from a worker, ahead of the new ones. */
  pushReturned(task: PoolTask): void {
    task.state = 'waiting';
    this.returned.push(task);
  }

  /** The next task to send, taken out of the queue. */
  shift(): PoolTask | undefined {
    return this.returned.shift() ?? this.fresh.shift();
  }

  /** Takes `task` out of the queue (it was cancelled). */
  remove(task: PoolTask): void {
    if (!this.fresh.remove(task)) this.returned.remove(task);
  }
}
