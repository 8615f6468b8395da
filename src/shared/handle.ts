/**
 * The handle that carries a cross-thread lock's memory between threads: making new memory, and checking memory that
 * arrives. The layout of that memory and its rules are in layout.ts.
 */
import { invalid } from '../internal/validate.js';
import { H_CAPACITY, H_KIND, H_MAGIC, H_SLOTS, HEADER_INTS, initLayout, MAGIC, SLOT_INTS } from './layout.js';

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

const KIND_CODES: Record<SharedKind, number> = { SharedMutex: 1, SharedSemaphore: 2 };

/** The default number of slots: waiters plus holding threads tracked at once. */
export const DEFAULT_SLOTS = 128;
/** Upper bound on slots, to keep a typo from allocating gigabytes. */
export const MAX_SLOTS = 1 << 20;

/** The primitive whose memory `s` is. */
export function kindOf(s: Int32Array): SharedKind {
  return Atomics.load(s, H_KIND) === KIND_CODES.SharedMutex ? 'SharedMutex' : 'SharedSemaphore';
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
  initLayout(new Int32Array(buffer), KIND_CODES[kind], capacity, slots);
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
