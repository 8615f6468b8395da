/**
 * The wire protocol between a pool and its workers, shared by both sides. Messages are flat arrays (cheap to clone)
 * whose first element is the message kind; task batches and result batches carry several entries back to back, so
 * one `postMessage` moves many small tasks.
 *
 * Each worker owns a table of task slots in a `SharedArrayBuffer`. The pool marks a slot QUEUED before sending its
 * task; the worker claims it (QUEUED -> RUNNING) with a compare-and-swap just before calling the function. The pool
 * can take a task back that has not started (QUEUED -> REVOKED) to cancel it or hand it to an idle worker; the worker
 * then skips it and marks the slot FREE, which is how the pool learns the slot can be reused.
 */

/** Slot states in the shared table. */
export const SLOT_FREE = 0;
export const SLOT_QUEUED = 1;
export const SLOT_RUNNING = 2;
export const SLOT_REVOKED = 3;

/** Slots per worker: the upper bound of tasks pipelined to one worker, revoked ones included. */
export const SLOT_COUNT = 256;

/**
 * Whether the slot tables are shared memory. A browser page that is not cross-origin isolated has no
 * `SharedArrayBuffer`: each side then keeps its own copy of the table, a worker is sent one task at a time, and a sent
 * task is never taken back (see transport-web.ts and port-web.ts).
 */
export const SHARED_SLOTS = typeof SharedArrayBuffer === 'function';

/** Messages from the pool to a worker. */
export const MSG_TASKS = 0; //  a task batch: [MSG_TASKS, slot, fnIndex, mode, args, slot, fnIndex, mode, args, ...]
export const MSG_ABORT = 1; //  [MSG_ABORT, slot, reason]   cancel a running task or stop a stream (serialized reason)
export const MSG_CREDIT = 2; // [MSG_CREDIT, slot, values]  lets a stream run ahead by that many more values

/** Messages from a worker to the pool. */
export const MSG_READY = 10; //   [MSG_READY, names, kinds]
export const MSG_RESULTS = 11; // a result batch: [MSG_RESULTS, slot, status, value, runMs, slot, status, ...]

/** Task modes. */
export const MODE_RUN = 0;
export const MODE_STREAM = 1;
export type TaskMode = typeof MODE_RUN | typeof MODE_STREAM;

/** Result statuses. */
export const STATUS_OK = 0; //     the function returned (a stream: the generator finished)
export const STATUS_ERROR = 1; //  the function threw; value is a serialized error
export const STATUS_YIELD = 2; //  a stream produced a value
export type ResultStatus = typeof STATUS_OK | typeof STATUS_ERROR | typeof STATUS_YIELD;

/** Function kinds reported in MSG_READY. */
export const KIND_FUNCTION = 0;
export const KIND_GENERATOR = 1;

/*
 * Batches. A task batch and a result batch are both the message kind followed by entries of four fields; the
 * functions below are the only code that knows the layout. Entries are numbered from 0.
 */

/** Fields per entry; the entries start after the message kind. */
const ENTRY_FIELDS = 4;

/** Where entry `entry` of a batch starts. */
function at(entry: number): number {
  return 1 + entry * ENTRY_FIELDS;
}

/** An empty batch of `kind` (`MSG_TASKS` or `MSG_RESULTS`). */
export function newBatch(kind: typeof MSG_TASKS | typeof MSG_RESULTS): unknown[] {
  return [kind];
}

/** Appends a task entry: run function `fnIndex` with `args` in `slot`. */
export function addTask(
  batch: unknown[],
  slot: number,
  fnIndex: number,
  mode: TaskMode,
  args: unknown,
): void {
  batch.push(slot, fnIndex, mode, args);
}

/** Appends a result entry: the task in `slot` ended (or yielded) with `value` after `runMs` of running. */
export function addResult(
  batch: unknown[],
  slot: number,
  status: ResultStatus,
  value: unknown,
  runMs: number,
): void {
  batch.push(slot, status, value, runMs);
}

/** A batch holding one result entry. */
export function resultMessage(slot: number, status: ResultStatus, value: unknown, runMs: number): unknown[] {
  return [MSG_RESULTS, slot, status, value, runMs];
}

/** How many entries a batch holds. */
export function entryCount(batch: readonly unknown[]): number {
  return (batch.length - 1) / ENTRY_FIELDS;
}

/** A batch of the same kind holding entry `entry` of `batch` alone. */
export function entryAlone(batch: readonly unknown[], entry: number): unknown[] {
  const i = at(entry);
  return [batch[0], batch[i], batch[i + 1], batch[i + 2], batch[i + 3]];
}

/** The slot of an entry (task and result entries alike). */
export function entrySlot(batch: readonly unknown[], entry: number): number {
  return batch[at(entry)] as number;
}

/** Sets the slots of every entry of a task batch to `state` in a table (a local copy where memory is not shared). */
export function markTaskSlots(batch: readonly unknown[], slots: Int32Array, state: number): void {
  if (batch[0] !== MSG_TASKS) return;
  for (let entry = 0, count = entryCount(batch); entry < count; entry++)
    slots[entrySlot(batch, entry)] = state;
}

/** Points entry `entry` of a task batch at another slot (a child process marks a task it took back this way). */
export function setEntrySlot(batch: unknown[], entry: number, slot: number): void {
  batch[at(entry)] = slot;
}

/** The function index of a task entry. */
export function taskFunction(batch: readonly unknown[], entry: number): number {
  return batch[at(entry) + 1] as number;
}

export function taskMode(batch: readonly unknown[], entry: number): TaskMode {
  return batch[at(entry) + 2] as TaskMode;
}

export function taskArgs(batch: readonly unknown[], entry: number): unknown[] {
  return batch[at(entry) + 3] as unknown[];
}

export function resultStatus(batch: readonly unknown[], entry: number): ResultStatus {
  return batch[at(entry) + 1] as ResultStatus;
}

export function resultValue(batch: readonly unknown[], entry: number): unknown {
  return batch[at(entry) + 2];
}

export function resultRunMs(batch: readonly unknown[], entry: number): number {
  return batch[at(entry) + 3] as number;
}

/** Values a stream may produce before the pool has to grant more credit. */
export const STREAM_WINDOW = 8;

/** What the pool hands a worker at start-up (as `workerData.weftPool`). */
export interface WorkerInit {
  /** Protocol version, checked by the worker side. */
  version: number;
  /** The shared slot table, `SLOT_COUNT` Int32 cells (an `ArrayBuffer` copy where memory cannot be shared). */
  slots: SharedArrayBuffer | ArrayBuffer;
}

export const PROTOCOL_VERSION = 1;

/** The key under which {@link WorkerInit} travels in the worker's start-up data. */
export const INIT_KEY = 'weftPool';

/** An error flattened for the trip across threads, keeping its class name, stack, cause and own properties. */
export interface SerializedError {
  weftError: 1;
  name: string;
  message: string;
  stack: string | undefined;
  cause?: unknown;
  props: Record<string, unknown> | undefined;
}

const DOM_EXCEPTION_NAMES = new Set(['AbortError', 'TimeoutError', 'DataCloneError']);

/** Flattens a thrown value for the trip across threads; non-errors pass through (cloned as they are). */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error) && !isDomException(error)) return error;
  const e = error as Error;
  let props: Record<string, unknown> | undefined;
  for (const key of Object.keys(e)) {
    if (key === 'cause' || key === 'stack' || key === 'message' || key === 'name') continue;
    const value = (e as unknown as Record<string, unknown>)[key];
    if (typeof value === 'function' || typeof value === 'symbol') continue;
    (props ??= {})[key] = value;
  }
  const out: SerializedError = { weftError: 1, name: e.name, message: e.message, stack: e.stack, props };
  if ('cause' in e) out.cause = serializeError(e.cause);
  return out;
}

/** Rebuilds an error flattened by {@link serializeError}. */
export function deserializeError(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || (value as SerializedError).weftError !== 1) return value;
  const s = value as SerializedError;
  const options = 'cause' in s ? { cause: deserializeError(s.cause) } : undefined;
  let error: Error;
  if (DOM_EXCEPTION_NAMES.has(s.name)) {
    error = new DOMException(s.message, s.name);
    if (options !== undefined)
      Object.defineProperty(error, 'cause', { value: options.cause, configurable: true, writable: true });
  } else {
    const Builtin = builtinErrors[s.name];
    error = Builtin !== undefined ? new Builtin(s.message, options) : new Error(s.message, options);
    if (error.name !== s.name)
      Object.defineProperty(error, 'name', { value: s.name, configurable: true, writable: true });
  }
  if (s.stack !== undefined)
    Object.defineProperty(error, 'stack', { value: s.stack, configurable: true, writable: true });
  if (s.props !== undefined) Object.assign(error, s.props);
  return error;
}

const builtinErrors: Record<string, ErrorConstructor | undefined> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

function isDomException(value: unknown): boolean {
  return typeof DOMException === 'function' && value instanceof DOMException;
}
