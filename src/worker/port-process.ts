/**
 * The worker side of the process transport (`runtime: 'process'`): a pool worker that is a Node.js child process,
 * talking to its pool over the IPC channel of `child_process.fork`.
 *
 * The child keeps its own copy of the slot table. A task the pool cancels before the child started it is taken back
 * here: its entry is pointed at a dead slot so the runtime skips it, and the pool hears at once that it is settled.
 * As each task starts, the child records its number in the progress file the pool gave it (see `PROGRESS_FD`), so
 * that after any death the pool knows which tasks had started. When the child is about to die on its own
 * (`process.exit`, `process.abort`, an uncaught error) it first delivers the results it still holds and the error.
 * When the pool goes away (the IPC channel closes) the child exits: no orphans.
 */
import type * as Fs from 'node:fs';
import { describe } from '../internal/validate.js';
import { hasNodeBuiltins, nodeModule } from '../pool/node-modules.js';
import {
  MSG_ABORT,
  MSG_RESULTS,
  MSG_TASKS,
  SLOT_COUNT,
  SLOT_FREE,
  SLOT_QUEUED,
  STATUS_ERROR,
  STATUS_YIELD,
  entryCount,
  entrySlot,
  resultMessage,
  resultStatus,
  serializeError,
  setEntrySlot,
  type WorkerInit,
} from '../pool/protocol.js';
import { DEAD_SLOT, MSG_EXIT_NOTICE, PROCESS_ENV_KEY, PROGRESS_FD } from '../pool/protocol-process.js';
import type { PoolPort } from './port-node.js';
import { runBeforeProcess } from './process-hooks.js';

/** The pool protocol version this process was started with, kept where every copy of weftjs/worker finds it. */
const VERSION_KEY = Symbol.for('weft.pool.process');

type Send = (
  message: unknown,
  handle: undefined,
  options: undefined,
  done: (error: unknown) => void,
) => boolean;

/** A failed send means the pool is gone; the 'disconnect' handler ends this process. */
function ignoreSendError(): void {}

class ProcessPort implements PoolPort {
  readonly init: WorkerInit;
  /** The runtime's slot table (this side's copy), one cell longer for {@link DEAD_SLOT}. */
  private readonly slots: Int32Array;
  /** Where the entry of each queued slot sits: its batch, and its entry number in the batch. */
  private readonly batches: (unknown[] | undefined)[] = new Array<unknown[] | undefined>(SLOT_COUNT);
  private readonly entries = new Int32Array(SLOT_COUNT);
  /** The arrival number of the task entry in each slot. */
  private readonly numbers = new Float64Array(SLOT_COUNT);
  private received = 0;
  private readonly progress = new Float64Array(1);
  private readonly progressBytes = new Uint8Array(this.progress.buffer);
  private writeSync: typeof Fs.writeSync | undefined = nodeModule<typeof Fs>('node:fs').writeSync;
  private flushBeforeExit: (() => void) | undefined = undefined;

  constructor(
    version: number,
    private readonly send: Send,
  ) {
    const buffer = new ArrayBuffer((SLOT_COUNT + 1) * Int32Array.BYTES_PER_ELEMENT);
    this.slots = new Int32Array(buffer);
    this.init = { version, slots: buffer };
  }

  post(message: unknown[]): void {
    // `transfer` lists cannot move memory between processes: the values are copied.
    if (message[0] === MSG_RESULTS) {
      const slots = this.slots;
      for (let entry = 0, count = entryCount(message); entry < count; entry++) {
        if (resultStatus(message, entry) !== STATUS_YIELD) slots[entrySlot(message, entry)] = SLOT_FREE;
      }
    }
    this.send(message, undefined, undefined, ignoreSendError);
  }

  listen(handler: (message: unknown[]) => void): void {
    process.on('message', (message: unknown) => {
      if (!Array.isArray(message)) return;
      if (message[0] === MSG_TASKS) this.queue(message);
      else if (message[0] === MSG_ABORT && this.takeBack(message[1] as number, message[2])) return;
      handler(message);
    });
  }

  beforeExit(callback: () => void): void {
    this.flushBeforeExit = callback;
  }

  started(slot: number): void {
    const write = this.writeSync;
    if (write === undefined) return;
    this.progress[0] = this.numbers[slot]!;
    try {
      write(PROGRESS_FD, this.progressBytes, 0, 8, 0);
    } catch {
      // No progress file: the pool then treats every task in flight here as started.
      this.writeSync = undefined;
    }
  }

  /** Sends the results still held, before the process ends. */
  flush(): void {
    try {
      this.flushBeforeExit?.();
    } catch {
      // Results that cannot be sent now are lost with the process; the pool must still hear why it ends.
    }
  }

  private queue(batch: unknown[]): void {
    const slots = this.slots;
    for (let entry = 0, count = entryCount(batch); entry < count; entry++) {
      const slot = entrySlot(batch, entry);
      slots[slot] = SLOT_QUEUED;
      this.batches[slot] = batch;
      this.entries[slot] = entry;
      this.numbers[slot] = ++this.received;
    }
  }

  /** Cancels a task not started yet (true), or leaves the abort to the runtime (false). */
  private takeBack(slot: number, reason: unknown): boolean {
    if (this.slots[slot] !== SLOT_QUEUED) return false;
    setEntrySlot(this.batches[slot]!, this.entries[slot]!, DEAD_SLOT);
    this.batches[slot] = undefined;
    this.post(resultMessage(slot, STATUS_ERROR, reason, 0));
    return true;
  }
}

let port: ProcessPort | undefined;
let ended = false;

/** Delivers what this process still holds, and the error that ends it, if any. Once. */
function notifyEnd(error: unknown): void {
  if (ended) return;
  ended = true;
  port?.flush();
  if (error === undefined) return;
  const send = (process.send as unknown as Send).bind(process);
  try {
    send([MSG_EXIT_NOTICE, serializeError(error)], undefined, undefined, ignoreSendError);
  } catch {
    // The error cannot be cloned: send its text.
    const text = error instanceof Error ? `${error.name}: ${error.message}` : `uncaught ${describe(error)}`;
    send([MSG_EXIT_NOTICE, serializeError(new Error(text))], undefined, undefined, ignoreSendError);
  }
}

/** Reads (and removes) the mark of a pool's child process; the protocol version, or `undefined`. */
function takeMark(): number | undefined {
  const global = globalThis as { [VERSION_KEY]?: number };
  if (global[VERSION_KEY] !== undefined) return global[VERSION_KEY];
  if (!hasNodeBuiltins() || typeof process.send !== 'function') return undefined;
  const value = process.env[PROCESS_ENV_KEY];
  if (value === undefined) return undefined;
  delete process.env[PROCESS_ENV_KEY];
  const version = Number(value);
  global[VERSION_KEY] = version;
  // From here on, whatever ends this process tells the pool first: a throw while the worker file loads included.
  process.on('uncaughtExceptionMonitor', (error) => {
    if (process.listenerCount('uncaughtException') === 0) notifyEnd(error);
  });
  runBeforeProcess('exit', () => notifyEnd(undefined));
  runBeforeProcess('abort', () => notifyEnd(undefined));
  return version;
}

const version = takeMark();

/** The port to the pool, or `undefined` when this process was not started by a `WorkerPool`. */
export function connectToProcessPool(): PoolPort | undefined {
  if (version === undefined) return undefined;
  if (port === undefined) {
    port = new ProcessPort(version, (process.send as unknown as Send).bind(process));
    process.once('disconnect', () => {
      // The pool is gone (closed, exited or killed): so is this worker.
      ended = true;
      process.exit(0);
    });
  }
  return port;
}
