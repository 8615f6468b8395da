/**
 * The shared-memory layout of a cross-thread lock, the rules that hold it together, and {@link checkInvariants},
 * which states them as code.
 *
 * # Implementation notes
 *
 * `SharedMutex` and `SharedSemaphore` are one weighted FIFO semaphore (a mutex has one permit) whose whole state is
 * one `Int32Array` over a `SharedArrayBuffer`: a header of `HEADER_INTS` words, then a table of `slots` records of
 * `SLOT_INTS` words. No thread owns the memory: every thread that opens the lock drives it through its own
 * `SharedCore` (core.ts), and any of them may grant a waiter of another.
 *
 * A slot is the record of one of:
 * - a waiter (`WAITING`): the weight it asks for and the ticket it drew when it joined, linked into the FIFO queue by
 *   `S_PREV` / `S_NEXT`;
 * - the permits one thread holds (`HELD`): their sum in `S_WEIGHT`. A thread keeps one such slot, even at weight 0
 *   between a release and its next take, so that a lock/unlock pair allocates nothing; idle ones are reclaimed
 *   when the table runs out;
 * - a waiter whose wait ended because the lock was closed (`CLOSED`), left for its owner thread to free;
 * - nothing (`FREE`), linked into the free list by `S_NEXT`.
 *
 * Every used slot names its owner thread (`S_OWNER`), so that what a dead thread held or waited for can be found and
 * given back (`releaseThread`). The slot records are the source of truth: the header's counters and links are
 * derived from them, and recovery rebuilds them from the slots (`rebuild` in slot-table.ts).
 *
 * Every change happens under the guard (guard.ts), a spinlock in `H_GUARD` held for a few dozen instructions and
 * never across a wait. The functions that change the memory take the `Guarded` token that only taking the guard
 * gives, so the rule is checked by the compiler. Under the guard, plain reads and writes are enough: taking and
 * letting go of the guard are atomic operations that order them. A word read without the guard is read with
 * `Atomics.load`, as a snapshot; a word that threads wait on is stored with `Atomics` and notified.
 *
 * A waiter waits on its own slot's `S_STATE` word (`Atomics.waitAsync`, or `Atomics.wait` for the `*Sync` forms).
 * Whoever frees permits (a release, a withdrawn waiter, a recovery) grants the queue from its head while the head's
 * weight fits: the slot turns `HELD` and its state word is notified; the waiter's own thread then folds it into its
 * `HELD` slot. `S_GEN` counts the times a slot was freed, so that a thread holding a stale slot number (its wait
 * withdrawn by recovery, its idle slot reclaimed) notices that the slot is no longer its own.
 *
 * Threads that find no free slot wait in their own thread, in order (an overflow queue in core.ts), and count
 * themselves in `H_SLOT_WAITERS`; while that is above 0, freeing a slot bumps and notifies `H_SLOT_FREED`.
 *
 * # Invariants
 *
 * They hold whenever the guard is free: every guarded operation starts from them and restores them before it lets
 * the guard go. {@link checkInvariants} checks them all; tests call it after each operation.
 *
 * 1. Permits are conserved: `H_AVAILABLE` + the weights of the `HELD` slots = `H_CAPACITY`; `H_AVAILABLE` >= 0.
 * 2. The queue (from `H_HEAD` along `S_NEXT` to `H_TAIL`, `S_PREV` mirroring `S_NEXT`) holds exactly the `WAITING`
 *    slots, in ticket order (tickets compared modulo 2^32); `H_PENDING` is its length.
 * 3. The free list (from `H_FREE` along `S_NEXT`) holds exactly the `FREE` slots.
 * 4. Nobody waits who could be served: the head of the queue asks for more than `H_AVAILABLE`.
 * 5. Weights are in range: a `WAITING` slot asks for 1 to `H_CAPACITY`, a `HELD` slot holds 0 to `H_CAPACITY`, a
 *    `FREE` slot has 0.
 * 6. Once `H_CLOSED` is set, the queue is empty (and stays so).
 *
 * In the word lists below, each word says who writes it and who reads it:
 * - `[fixed]`: written once before the buffer is shared, read-only after;
 * - `[guard]`: read and written only under the guard;
 * - `[guard; snapshot]`: written only under the guard; also read without it (`Atomics.load`) as a snapshot that may
 *   be stale at once: a getter such as `pending`, or a hint that is checked again under the guard;
 * - `[guard; wait]`: written only under the guard, with `Atomics` and a notify; threads wait on it without the guard;
 * - `[cas]`: changed by compare-and-swap, by anyone.
 *
 * @module
 */

// ----- header words -----

/** `MAGIC` once the buffer is fully initialised. `[fixed]` */
export const H_MAGIC = 0;
/** Which primitive: 1 `SharedMutex`, 2 `SharedSemaphore`. `[fixed]` */
export const H_KIND = 1;
/** Number of slots. `[fixed]` */
export const H_SLOTS = 2;
/** Total permits. `[fixed]` */
export const H_CAPACITY = 3;
/** The guard: 0 when free, else (holder's thread id + 1) << 1, bit 0 set while others park on it. `[cas]` */
export const H_GUARD = 4;
// Word 5 is reserved.
/** Permits free now (invariant 1). `[guard; snapshot]` */
export const H_AVAILABLE = 6;
/** First queued slot, -1 when the queue is empty (invariant 2). `[guard]` */
export const H_HEAD = 7;
/** Last queued slot, -1 when the queue is empty. `[guard]` */
export const H_TAIL = 8;
/** Length of the queue, across all threads (invariant 2). `[guard; snapshot]` */
export const H_PENDING = 9;
/** First free slot, -1 when none (invariant 3). `[guard; snapshot]` */
export const H_FREE = 10;
/** The ticket the next queued waiter draws; wraps, compared modulo 2^32. `[guard]` */
export const H_TICKET = 11;
/** Threads waiting for a free slot; while > 0, freeing a slot bumps and notifies `H_SLOT_FREED`. `[guard]` */
export const H_SLOT_WAITERS = 12;
/** Bumped and notified when a slot frees up, for the threads counted in `H_SLOT_WAITERS`. `[guard; wait]` */
export const H_SLOT_FREED = 13;
/** 1 once the lock is closed (invariant 6). `[guard; snapshot]` */
export const H_CLOSED = 14;
export const HEADER_INTS = 16;

// ----- slot words -----

/** `FREE`, `WAITING`, `HELD` or `CLOSED`; the slot's waiter waits on this word. `[guard; wait]` */
export const S_STATE = 0;
/** Permits asked for (`WAITING`) or held (`HELD`); 0 when `FREE` (invariants 1, 5). `[guard; snapshot]` */
export const S_WEIGHT = 1;
/** The thread that took the slot. `[guard; snapshot]` */
export const S_OWNER = 2;
/** Next slot in the queue (`WAITING`) or the free list (`FREE`), -1 at the end. `[guard]` */
export const S_NEXT = 3;
/** Previous slot in the queue (`WAITING`), -1 at the head. `[guard]` */
export const S_PREV = 4;
/** The waiter's arrival ticket (`WAITING`). `[guard]` */
export const S_TICKET = 5;
/** Bumped every time the slot is freed, so that a stale reference to a reused slot is noticed. `[guard; snapshot]` */
export const S_GEN = 6;
export const SLOT_INTS = 8;

// ----- slot states -----

export const FREE = 0;
export const WAITING = 1;
export const HELD = 2;
/** A waiter whose wait ended because the lock was closed; its owner frees it. */
export const CLOSED = 3;

/** Marks the buffer as a weft lock, layout version 1 ('weft' in ASCII). */
export const MAGIC = 0x77656674;

/** The index of slot `slot`'s first word. */
export function slotBase(slot: number): number {
  return HEADER_INTS + slot * SLOT_INTS;
}

/** Writes the state of a new lock: `capacity` permits free, nobody queued, every slot free. */
export function initLayout(s: Int32Array, kindCode: number, capacity: number, slots: number): void {
  s[H_KIND] = kindCode;
  s[H_SLOTS] = slots;
  s[H_CAPACITY] = capacity;
  s[H_AVAILABLE] = capacity;
  s[H_HEAD] = -1;
  s[H_TAIL] = -1;
  for (let i = 0; i < slots; i++) s[slotBase(i) + S_NEXT] = i + 1 < slots ? i + 1 : -1;
  s[H_FREE] = 0;
  // Written last: a buffer is only recognised once it is fully initialised.
  Atomics.store(s, H_MAGIC, MAGIC);
}

/**
 * Checks the invariants above on `s`, which no thread may be changing meanwhile (call it under the guard, or while
 * the lock is idle). Reads only. Throws an `Error` listing every broken rule.
 */
export function checkInvariants(s: Int32Array): void {
  const broken: string[] = [];
  const slots = s[H_SLOTS]!;
  const capacity = s[H_CAPACITY]!;
  const available = s[H_AVAILABLE]!;
  let heldWeight = 0;
  let waitingCount = 0;
  let freeCount = 0;
  for (let slot = 0; slot < slots; slot++) {
    const base = slotBase(slot);
    const state = s[base + S_STATE]!;
    const weight = s[base + S_WEIGHT]!;
    if (state === HELD) {
      heldWeight += weight;
      if (weight < 0 || weight > capacity) broken.push(`5: HELD slot ${slot} holds ${weight}`);
    } else if (state === WAITING) {
      waitingCount++;
      if (weight < 1 || weight > capacity) broken.push(`5: WAITING slot ${slot} asks for ${weight}`);
    } else if (state === FREE) {
      freeCount++;
      if (weight !== 0) broken.push(`5: FREE slot ${slot} has weight ${weight}`);
    } else if (state !== CLOSED) {
      broken.push(`slot ${slot} has unknown state ${state}`);
    }
  }
  if (available < 0) broken.push(`1: available is ${available}`);
  if (available + heldWeight !== capacity) {
    broken.push(`1: available ${available} + held ${heldWeight} != capacity ${capacity}`);
  }

  // 2: walk the queue, at most `slots` steps (a longer walk is a cycle).
  let queued = 0;
  let prev = -1;
  let prevTicket = 0;
  for (let slot = s[H_HEAD]!; slot !== -1; slot = s[slotBase(slot) + S_NEXT]!) {
    if (slot < 0 || slot >= slots || queued === slots) {
      broken.push(`2: the queue is broken after slot ${prev}`);
      break;
    }
    const base = slotBase(slot);
    if (s[base + S_STATE] !== WAITING) broken.push(`2: queued slot ${slot} is not WAITING`);
    if (s[base + S_PREV] !== prev)
      broken.push(`2: slot ${slot} links back to ${s[base + S_PREV]}, not ${prev}`);
    const ticket = s[base + S_TICKET]!;
    if (queued > 0 && ((ticket - prevTicket) | 0) <= 0) {
      broken.push(`2: slot ${slot} (ticket ${ticket}) is queued after ticket ${prevTicket}`);
    }
    prev = slot;
    prevTicket = ticket;
    queued++;
  }
  if (s[H_TAIL] !== prev) broken.push(`2: tail is ${s[H_TAIL]}, the queue ends at ${prev}`);
  if (queued !== waitingCount) broken.push(`2: ${queued} queued, ${waitingCount} slots WAITING`);
  if (s[H_PENDING] !== queued) broken.push(`2: pending is ${s[H_PENDING]}, ${queued} queued`);

  let listed = 0;
  for (let slot = s[H_FREE]!; slot !== -1; slot = s[slotBase(slot) + S_NEXT]!) {
    if (slot < 0 || slot >= slots || listed === slots) {
      broken.push('3: the free list is broken');
      break;
    }
    if (s[slotBase(slot) + S_STATE] !== FREE) broken.push(`3: slot ${slot} is on the free list, not FREE`);
    listed++;
  }
  if (listed !== freeCount) broken.push(`3: ${listed} slots on the free list, ${freeCount} FREE`);

  const head = s[H_HEAD]!;
  if (head !== -1 && head >= 0 && head < slots && s[slotBase(head) + S_WEIGHT]! <= available) {
    broken.push(
      `4: the head (slot ${head}) asks for ${s[slotBase(head) + S_WEIGHT]}, ${available} available`,
    );
  }
  if (s[H_CLOSED] !== 0 && head !== -1) broken.push('6: closed with a queue');
  if (s[H_SLOT_WAITERS]! < 0) broken.push(`H_SLOT_WAITERS is ${s[H_SLOT_WAITERS]}`);
  if (broken.length > 0) throw new Error(`shared lock invariants broken:\n${broken.join('\n')}`);
}
