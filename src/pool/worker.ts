import { WaitQueue } from '../internal/wait-queue.js';
import {
  SLOT_COUNT,
  SLOT_FREE,
  SLOT_QUEUED,
  SLOT_REVOKED,
  SLOT_RUNNING,
  SHARED_SLOTS,
  type WorkerInit,
  PROTOCOL_VERSION,
} from './protocol.js';
import type { PoolTask } from './pool-task.js';
import type { WorkerHandle } from './transport.js';

/**
 * A worker's life: `starting` until it reports its functions, `ready` while it takes tasks, `stopping` once the pool
 * asked it to end (idle, replaced, closing), `exited` for good.
 */
export type WorkerState = 'starting' | 'ready' | 'stopping' | 'exited';

/**
 * The engine's record of one worker thread: its handle, its shared slot table and the tasks sent to it, in the
 * order it will run them (the head is running or next).
 */
export class PoolWorker {
  state: WorkerState = 'starting';
  handle: WorkerHandle | undefined = undefined;
  readonly slots: Int32Array;
  readonly init: WorkerInit;
  /** Tasks sent and not yet answered, oldest first. */
  readonly inflight = new WaitQueue<PoolTask>();
  /** Task by slot, for answers. */
  readonly bySlot: (PoolTask | undefined)[] = new Array<PoolTask | undefined>(SLOT_COUNT);
  /** Slots free for new tasks, and slots taken back that the worker has not skipped yet. */
  private readonly free: number[] = [];
  private revoked: number[] = [];
  /** Function name to index, from the worker's ready message. */
  functions: Map<string, number> | undefined = undefined;
  /** Tasks this worker answered for: a worker that dies before its first answer had a bad start. */
  answered = 0;
  everReady = false;
  /** The last uncaught error reported before an exit. */
  error: unknown = undefined;
  idleSince = 0;
  idleTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  graceTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  referenced = true;

  constructor(readonly id: number) {
    const bytes = SLOT_COUNT * Int32Array.BYTES_PER_ELEMENT;
    const buffer = SHARED_SLOTS ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    this.slots = new Int32Array(buffer);
    this.init = { version: PROTOCOL_VERSION, slots: buffer };
    for (let slot = SLOT_COUNT - 1; slot >= 0; slot--) this.free.push(slot);
  }

  /** Whether it takes tasks now. */
  get ready(): boolean {
    return this.state === 'ready';
  }

  /** Whether it is starting or ready (not on its way out). */
  get live(): boolean {
    return this.state === 'starting' || this.state === 'ready';
  }

  /** Tasks sent to it and not answered yet. */
  get load(): number {
    return this.inflight.length;
  }

  /** Slots available now, reclaiming revoked ones the worker has passed. */
  freeSlots(): number {
    if (this.free.length === 0 && this.revoked.length > 0) {
      const still: number[] = [];
      for (const slot of this.revoked) {
        if (Atomics.load(this.slots, slot) === SLOT_FREE) this.free.push(slot);
        else still.push(slot);
      }
      this.revoked = still;
    }
    return this.free.length;
  }

  /** Puts `task` in a free slot (call {@link freeSlots} first) and appends it to the in-flight list. */
  assign(task: PoolTask): number {
    const slot = this.free.pop()!;
    Atomics.store(this.slots, slot, SLOT_QUEUED);
    this.bySlot[slot] = task;
    this.inflight.push(task);
    task.worker = this;
    task.slot = slot;
    return slot;
  }

  /** The worker answered for `task` (or it could not be sent): its slot is free again. */
  release(task: PoolTask): void {
    const slot = task.slot;
    this.bySlot[slot] = undefined;
    Atomics.store(this.slots, slot, SLOT_FREE);
    this.free.push(slot);
    this.inflight.remove(task);
    task.worker = null;
  }

  /** Takes back a task the worker has not started; false if it already started. */
  revoke(task: PoolTask): boolean {
    const slot = task.slot;
    if (Atomics.compareExchange(this.slots, slot, SLOT_QUEUED, SLOT_REVOKED) !== SLOT_QUEUED) return false;
    this.bySlot[slot] = undefined;
    this.revoked.push(slot);
    this.inflight.remove(task);
    task.worker = null;
    return true;
  }

  isRunning(task: PoolTask): boolean {
    return Atomics.load(this.slots, task.slot) === SLOT_RUNNING;
  }

  /** The task at the head of the list, if it is running (or was abandoned while running). */
  running(): PoolTask | undefined {
    const head = this.inflight.peek();
    return head !== undefined && (head.abandoned || this.isRunning(head)) ? head : undefined;
  }

  clearTimers(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    if (this.graceTimer !== undefined) clearTimeout(this.graceTimer);
    this.idleTimer = this.graceTimer = undefined;
  }

  setReferenced(referenced: boolean): void {
    if (this.referenced === referenced || this.handle === undefined) return;
    this.referenced = referenced;
    if (referenced) this.handle.ref();
    else this.handle.unref();
  }
}
