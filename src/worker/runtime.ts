/**
 * The worker side of a pool: receives task batches, runs one task at a time in arrival order, and sends results
 * back in batches. Synchronous tasks run back to back for at most one slice before the event loop gets a turn, so
 * timers, I/O and abort messages keep flowing inside the worker.
 */
import {
  KIND_GENERATOR,
  MODE_RUN,
  MSG_ABORT,
  MSG_CREDIT,
  MSG_READY,
  MSG_RESULTS,
  MSG_TASKS,
  type ResultStatus,
  SLOT_FREE,
  SLOT_QUEUED,
  SLOT_RUNNING,
  STATUS_ERROR,
  STATUS_OK,
  STATUS_YIELD,
  STREAM_WINDOW,
  type TaskMode,
  addResult,
  deserializeError,
  entryAlone,
  entryCount,
  entrySlot,
  newBatch,
  resultMessage,
  resultRunMs,
  resultStatus,
  resultValue,
  serializeError,
  taskArgs,
  taskFunction,
  taskMode,
} from '../pool/protocol.js';
import { isThenable } from '../internal/promise.js';
import { queueMacrotask } from '../internal/macrotask.js';
import { Context } from './context.js';
import type { PoolPort } from './port-node.js';
import { Transfer } from './transfer.js';

/** Longest run of back-to-back synchronous tasks before yielding to the event loop (ms). */
const SLICE_MS = 4;

type ExposedFunction = (this: Context, ...args: unknown[]) => unknown;

export class Runtime {
  private readonly slots: Int32Array;
  /** Received task batches not yet fully consumed; `head` and `cursor` point at the next task entry. */
  private readonly inbox: (unknown[] | undefined)[] = [];
  private head = 0;
  private cursor = 0;
  /** The task in progress while it awaits (an async function or a stream); sync tasks never stay here. */
  private current: Context | undefined = undefined;
  private out: unknown[] = newBatch(MSG_RESULTS);
  private flushScheduled = false;
  private drainScheduled = false;
  /** The function index of the task last started in each slot, for error messages written after the fact. */
  private readonly slotFunction: Int32Array;

  private readonly drainLater = (): void => {
    this.drainScheduled = false;
    this.drain();
  };
  private readonly flushLater = (): void => {
    this.flush();
  };

  constructor(
    private readonly port: PoolPort,
    private readonly names: readonly string[],
    private readonly fns: readonly ExposedFunction[],
    private readonly kinds: readonly number[],
  ) {
    this.slots = new Int32Array(port.init.slots);
    this.slotFunction = new Int32Array(this.slots.length);
  }

  start(): void {
    this.port.listen((message) => this.receive(message));
    // Results of tasks that ran before a task called process.exit are still delivered.
    this.port.beforeExit(() => this.flush());
    this.port.post([MSG_READY, this.names, this.kinds]);
  }

  private receive(message: unknown[]): void {
    switch (message[0]) {
      case MSG_TASKS:
        this.inbox.push(message);
        this.drain();
        break;
      case MSG_ABORT: {
        const task = this.current;
        if (task !== undefined && task.slot === message[1]) task.abort(deserializeError(message[2]));
        break;
      }
      case MSG_CREDIT: {
        const task = this.current;
        if (task !== undefined && task.slot === message[1]) task.grant(message[2] as number);
        break;
      }
    }
  }

  /** The batch holding the next task entry, or `undefined` when there is none. */
  private nextBatch(): unknown[] | undefined {
    const inbox = this.inbox;
    while (this.head < inbox.length) {
      const batch = inbox[this.head]!;
      if (this.cursor < entryCount(batch)) return batch;
      inbox[this.head++] = undefined;
      this.cursor = 0;
    }
    inbox.length = 0;
    this.head = 0;
    return undefined;
  }

  private drain(): void {
    if (this.current !== undefined) return;
    const sliceEnd = performance.now() + SLICE_MS;
    for (;;) {
      const batch = this.nextBatch();
      if (batch === undefined) break;
      const entry = this.cursor++;
      const slot = entrySlot(batch, entry);
      if (Atomics.compareExchange(this.slots, slot, SLOT_QUEUED, SLOT_RUNNING) !== SLOT_QUEUED) {
        // Taken back by the pool (cancelled, or handed to another worker): skip it and free the slot.
        Atomics.store(this.slots, slot, SLOT_FREE);
        continue;
      }
      this.port.started?.(slot);
      const end = this.run(slot, taskFunction(batch, entry), taskMode(batch, entry), taskArgs(batch, entry));
      if (end < 0) break; // the task went asynchronous; it resumes draining when it settles
      if (end >= sliceEnd) {
        if (this.nextBatch() !== undefined && !this.drainScheduled) {
          this.drainScheduled = true;
          queueMacrotask(this.drainLater);
        }
        break;
      }
    }
    this.flush();
  }

  /** Starts one task. Returns the time it ended, or -1 if it continues asynchronously. */
  private run(slot: number, fnIndex: number, mode: TaskMode, args: unknown[]): number {
    this.slotFunction[slot] = fnIndex;
    const fn = this.fns[fnIndex];
    const task = new Context(slot);
    task.start = performance.now();
    if (fn === undefined) {
      return this.finish(
        task,
        STATUS_ERROR,
        new RangeError(`weftjs/worker: no function with index ${fnIndex}`),
      );
    }
    const isGenerator = this.kinds[fnIndex] === KIND_GENERATOR;
    if (mode === MODE_RUN && isGenerator) {
      const name = this.names[fnIndex]!;
      return this.finish(
        task,
        STATUS_ERROR,
        new TypeError(
          `WorkerPool.run: ${name} is a generator function; consume it with pool.stream('${name}', args)`,
        ),
      );
    }
    let result: unknown;
    try {
      result = fn.apply(task, args);
    } catch (error) {
      return this.finish(task, STATUS_ERROR, error);
    }
    if (mode === MODE_RUN) {
      if (isThenable(result)) {
        this.current = task;
        result.then(
          (value) => this.settle(task, STATUS_OK, value),
          (error: unknown) => this.settle(task, STATUS_ERROR, error),
        );
        return -1;
      }
      return this.finish(task, STATUS_OK, result);
    }
    const iterator = iteratorOf(result);
    if (iterator === undefined) {
      const name = this.names[fnIndex]!;
      return this.finish(
        task,
        STATUS_ERROR,
        new TypeError(
          `WorkerPool.stream: ${name} did not return an iterable; call it with pool.run('${name}', args)`,
        ),
      );
    }
    this.current = task;
    task.credit = STREAM_WINDOW;
    void this.pump(task, iterator);
    return -1;
  }

  private finish(task: Context, status: ResultStatus, value: unknown): number {
    const end = performance.now();
    this.push(task.slot, status, value, end - task.start);
    return end;
  }

  /** An asynchronous task (or stream) ended: report it and go on with the queue. */
  private settle(task: Context, status: ResultStatus, value: unknown): void {
    if (this.current === task) this.current = undefined;
    this.push(task.slot, status, value, performance.now() - task.start);
    this.drain();
  }

  /** Feeds a stream's values to the pool, never more than the credit the consumer granted. */
  private async pump(task: Context, iterator: Iterator<unknown> | AsyncIterator<unknown>): Promise<void> {
    let status: ResultStatus = STATUS_OK;
    let failure: unknown = undefined;
    try {
      while (!task.aborted) {
        if (task.credit <= 0) {
          this.flush();
          await new Promise<void>((resolve) => (task.wake = resolve));
          continue;
        }
        const step = await iterator.next();
        if (step.done === true || task.aborted) break;
        task.credit--;
        this.push(task.slot, STATUS_YIELD, step.value, 0);
        this.scheduleFlush();
      }
      if (task.aborted) await iterator.return?.();
    } catch (error) {
      status = STATUS_ERROR;
      failure = error;
    }
    if (task.failure !== undefined) {
      status = STATUS_ERROR;
      failure = task.failure;
    }
    this.settle(task, status, failure);
  }

  private push(slot: number, status: ResultStatus, value: unknown, runMs: number): void {
    if (value instanceof Transfer) {
      // Results that move memory go alone, so one bad transfer list cannot spoil a batch.
      this.flush();
      this.post(resultMessage(slot, status, value.value, runMs), value.list);
      return;
    }
    addResult(this.out, slot, status, status === STATUS_ERROR ? serializeError(value) : value, runMs);
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(this.flushLater);
  }

  private flush(): void {
    this.flushScheduled = false;
    const out = this.out;
    if (entryCount(out) === 0) return;
    this.out = newBatch(MSG_RESULTS);
    try {
      this.port.post(out);
    } catch {
      // Some value cannot be cloned: send the entries one by one so only that one fails.
      let stopped: unknown = -1; // a stream whose value failed: drop the values it yielded after that one
      for (let entry = 0, count = entryCount(out); entry < count; entry++) {
        const slot = entrySlot(out, entry);
        if (slot === stopped && resultStatus(out, entry) === STATUS_YIELD) continue;
        if (!this.post(entryAlone(out, entry), undefined)) stopped = slot;
      }
    }
  }

  /**
   * Posts one result; a value that cannot be cloned becomes a `DataCloneError` for that task. Returns false when a
   * streamed value failed (the stream is being stopped).
   */
  private post(message: unknown[], transfer: readonly Transferable[] | undefined): boolean {
    try {
      this.port.post(message, transfer);
      return true;
    } catch (error) {
      const slot = entrySlot(message, 0);
      const status = resultStatus(message, 0);
      const runMs = resultRunMs(message, 0);
      const name = this.names[this.slotFunction[slot]!] ?? 'the function';
      let cause = error instanceof Error ? error.message : String(error);
      if (status === STATUS_ERROR) {
        // An error with uncloneable extras: keep what can travel.
        const original = resultValue(message, 0) as { name?: unknown; message?: unknown } | null;
        const text = original?.message;
        const plain = new Error(typeof text === 'string' ? text : 'an error that cannot be cloned');
        plain.name = typeof original?.name === 'string' ? original.name : 'Error';
        try {
          this.port.post(resultMessage(slot, STATUS_ERROR, serializeError(plain), runMs));
          return true;
        } catch (second) {
          cause = second instanceof Error ? second.message : String(second);
        }
      }
      const what = status === STATUS_YIELD ? 'a value yielded by' : 'the result of';
      const failure = new DOMException(`${what} ${name} could not be cloned: ${cause}`, 'DataCloneError');
      if (status === STATUS_YIELD) {
        // The stream still runs: stop it; its one final answer carries this error.
        const task = this.current;
        if (task !== undefined && task.slot === slot && task.failure === undefined) {
          task.failure = failure;
          task.abort(failure);
        }
        return false;
      }
      this.port.post(resultMessage(slot, STATUS_ERROR, serializeError(failure), runMs));
      return true;
    }
  }
}

function iteratorOf(value: unknown): Iterator<unknown> | AsyncIterator<unknown> | undefined {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function')) return undefined;
  const asyncIterable = (value as AsyncIterable<unknown>)[Symbol.asyncIterator];
  if (typeof asyncIterable === 'function') return asyncIterable.call(value);
  const iterable = (value as Iterable<unknown>)[Symbol.iterator];
  if (typeof iterable === 'function' && typeof value !== 'string') return iterable.call(value);
  return undefined;
}
