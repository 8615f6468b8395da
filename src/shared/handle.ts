/**
 * The shared-memory layout of a cross-thread lock, and the handle that carries it between threads.
 *
 * The lock's whole state lives in one `Int32Array` over a `SharedArrayBuffer`: a header, then a table of slots. A
 * slot records one waiter (`WAITING`, linked into the FIFO queue) or the permits one thread holds (`HELD`), with the
 * owning thread's id, so that the state of a thread that died can be found and given back. The slot records are the
 * source of truth; the header's counters and links are derived from them and can be rebuilt (see `SharedCore`).
 */
import { invalid } from '../internal/validate.js';

/**
 * The state of a `SharedMutex` or a `SharedSemaphore`, as it travels between threads. Send it with `postMessage`,
 * `workerData` or as a pool task argument; `from(handle)` on the other side opens the same lock.
 *
 * @example
 * ```ts
 * import { Worker } from 'node:worker_threads';
 * import { SharedMutex, type SharedHandle } from 'weftjs/shared';
 *
 * const mutex = new SharedMutex();
 * const handle: SharedHandle = mutex.handle;
 * new Worker(new URL('./worker.js', import.meta.url), { workerData: handle });
 * // worker.js: const mutex = SharedMutex.from(workerData);
 * ```
 */
export interface SharedHandle {
  /** Which primitive this memory belongs to. */
  readonly kind: SharedKind;
  /** The shared memory holding the lock's state. */
  readonly buffer: SharedArrayBuffer;
}

/**
 * The primitives that have a {@link SharedHandle}.
 *
 * @example
 * ```ts
 * import { SharedSemaphore, type SharedKind } from 'weftjs/shared';
 *
 * const kind: SharedKind = new SharedSemaphore(2).handle.kind; // 'SharedSemaphore'
 * ```
 */
export type SharedKind = 'SharedMutex' | 'SharedSemaphore';

/** Marks the buffer as a weft lock, layout version 1 ('weft' in ASCII). */
export const MAGIC = 0x77656674;

// Header words.
export const H_MAGIC = 0;
export const H_KIND = 1;
export const H_SLOTS = 2;
export const H_CAPACITY = 3;
/** Guard spinlock around every change: 0 free, else (holder's thread id + 1) << 1, bit 0 set when contended. */
export const H_GUARD = 4;
// Word 5 is reserved.
export const H_AVAILABLE = 6;
/** First and last queued slot (-1: queue empty). */
export const H_HEAD = 7;
export const H_TAIL = 8;
/** Number of queued waiters, across all threads. */
export const H_PENDING = 9;
/** First free slot (-1: none). */
export const H_FREE = 10;
/** Arrival counter: the ticket of the next queued waiter (wraps; compared modulo 2^32). */
export const H_TICKET = 11;
/** Threads that wait for a free slot; while > 0, freeing a slot bumps and notifies H_SLOT_FREED. */
export const H_SLOT_WAITERS = 12;
export const H_SLOT_FREED = 13;
export const H_CLOSED = 14;
export const HEADER_INTS = 16;

// Slot words.
export const S_STATE = 0;
export const S_WEIGHT = 1;
export const S_OWNER = 2;
export const S_NEXT = 3;
export const S_PREV = 4;
export const S_TICKET = 5;
/** Bumped every time the slot is freed, so that a stale reference to a reused slot is recognised. */
export const S_GEN = 6;
export const SLOT_INTS = 8;

// Slot states.
export const FREE = 0;
export const WAITING = 1;
export const HELD = 2;
/** A waiter whose wait ended because the semaphore was closed; its owner frees it. */
export const CLOSED = 3;

const KIND_CODES: Record<SharedKind, number> = { SharedMutex: 1, SharedSemaphore: 2 };

/** The default number of slots: waiters plus holding threads tracked at once. */
export const DEFAULT_SLOTS = 128;
/** Upper bound on slots, to keep a typo from allocating gigabytes. */
export const MAX_SLOTS = 1 << 20;

export function slotBase(slot: number): number {
  return HEADER_INTS + slot * SLOT_INTS;
}

/** Allocates and initialises the memory of a new lock. */
export function createState(kind: SharedKind, capacity: number, slots: number): SharedHandle {
  if (typeof SharedArrayBuffer !== 'function') {
    throw new Error(
      `${kind}: SharedArrayBuffer is not available here (in browsers the page must be cross-origin isolated: ` +
        'serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)',
    );
  }
  const buffer = new SharedArrayBuffer((HEADER_INTS + slots * SLOT_INTS) * 4);
  const s = new Int32Array(buffer);
  s[H_KIND] = KIND_CODES[kind];
  s[H_SLOTS] = slots;
  s[H_CAPACITY] = capacity;
  s[H_AVAILABLE] = capacity;
  s[H_HEAD] = -1;
  s[H_TAIL] = -1;
  for (let i = 0; i < slots; i++) s[slotBase(i) + S_NEXT] = i + 1 < slots ? i + 1 : -1;
  s[H_FREE] = 0;
  // Written last: a buffer is only recognised once it is fully initialised.
  Atomics.store(s, H_MAGIC, MAGIC);
  return Object.freeze({ kind, buffer });
}

function isSharedArrayBuffer(value: unknown): value is SharedArrayBuffer {
  return Object.prototype.toString.call(value) === '[object SharedArrayBuffer]';
}

/** Checks that `handle` is the handle of a `kind`, and returns its memory. Throws `TypeError` otherwise. */
export function openHandle(where: string, kind: SharedKind, handle: unknown): SharedArrayBuffer {
  const fail = (what: string): TypeError => invalid(where, `handle must be ${what}`, handle);
  if (typeof handle !== 'object' || handle === null) throw fail(`the handle of a ${kind}`);
  const { kind: handleKind, buffer } = handle as Partial<SharedHandle>;
  if ((handleKind === 'SharedMutex' || handleKind === 'SharedSemaphore') && handleKind !== kind) {
    throw new TypeError(
      `${where}: handle must be the handle of a ${kind}, got the handle of a ${handleKind}`,
    );
  }
  if (handleKind !== kind || !isSharedArrayBuffer(buffer) || buffer.byteLength < HEADER_INTS * 4) {
    throw fail(`the handle of a ${kind}`);
  }
  const s = new Int32Array(buffer);
  const slots = Atomics.load(s, H_SLOTS);
  if (
    Atomics.load(s, H_MAGIC) !== MAGIC ||
    Atomics.load(s, H_KIND) !== KIND_CODES[kind] ||
    slots < 1 ||
    buffer.byteLength !== (HEADER_INTS + slots * SLOT_INTS) * 4 ||
    Atomics.load(s, H_CAPACITY) < 1
  ) {
    throw new TypeError(`${where}: handle's memory does not hold a ${kind} (wrong or corrupted buffer)`);
  }
  return buffer;
}
