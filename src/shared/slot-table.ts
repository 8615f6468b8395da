/**
 * The slot table: plain functions over a lock's `Int32Array` (layout.ts) that take, queue, grant, free and rebuild
 * slots. They know nothing of threads beyond the owner ids they record, so they run (and are tested) on one thread.
 *
 * Every function that changes the memory takes the {@link Guarded} token of the guard, and leaves the invariants
 * written in layout.ts as it found them, except where its description says that a `grant` must follow (it freed
 * permits or a place in the queue, or queued a waiter that may fit at once; `unlink` also needs its slot freed).
 * What the calling thread must learn of (a slot of its own granted, freed or closed) it learns through
 * {@link SlotEvents}.
 */
import type { Guarded } from './guard.js';
import {
  CLOSED,
  FREE,
  H_AVAILABLE,
  H_CAPACITY,
  H_CLOSED,
  H_FREE,
  H_HEAD,
  H_PENDING,
  H_SLOT_FREED,
  H_SLOT_WAITERS,
  H_SLOTS,
  H_TAIL,
  H_TICKET,
  HELD,
  S_GEN,
  S_NEXT,
  S_OWNER,
  S_PREV,
  S_STATE,
  S_TICKET,
  S_WEIGHT,
  slotBase,
  WAITING,
} from './layout.js';

/** What the table tells the thread driving it, under the guard. */
export interface SlotEvents {
  /** Waiting slot `slot` of thread `owner` was granted: it is `HELD` now and its state word is notified. */
  slotGranted(slot: number, owner: number): void;
  /** Slot `slot` of thread `owner` was freed (its generation bumped). */
  slotFreed(slot: number, owner: number): void;
  /**
   * Waiting slot `slot` of thread `owner` is closed. Returns whether it is freed at once (its owner is this thread
   * and settles the wait itself); otherwise it is marked `CLOSED` for its owner to free.
   */
  slotClosed(slot: number, owner: number): boolean;
}

/** Takes a free slot for `owner`, reclaiming idle `HELD` slots when none is free. Returns it, or -1. */
export function allocSlot(
  s: Int32Array,
  g: Guarded,
  owner: number,
  weight: number,
  state: number,
  events: SlotEvents,
): number {
  let slot = s[H_FREE]!;
  if (slot === -1 && (slot = reclaimIdle(s, g, events)) === -1) return -1;
  const base = slotBase(slot);
  s[H_FREE] = s[base + S_NEXT]!;
  s[base + S_WEIGHT] = weight;
  Atomics.store(s, base + S_OWNER, owner);
  Atomics.store(s, base + S_STATE, state);
  return slot;
}

/** Frees `slot` (not queued) onto the free list. */
export function freeSlot(s: Int32Array, g: Guarded, slot: number, events: SlotEvents): void {
  const base = slotBase(slot);
  events.slotFreed(slot, Atomics.load(s, base + S_OWNER));
  Atomics.add(s, base + S_GEN, 1);
  Atomics.store(s, base + S_STATE, FREE);
  s[base + S_WEIGHT] = 0;
  s[base + S_NEXT] = s[H_FREE]!;
  s[H_FREE] = slot;
  signalSlotFreed(s, g);
}

/**
 * Frees the idle `HELD` slots (weight 0) that threads keep between lock/unlock pairs. Their threads notice by the
 * generation and take a new slot next time. Returns the first free slot, or -1.
 */
function reclaimIdle(s: Int32Array, g: Guarded, events: SlotEvents): number {
  const slots = s[H_SLOTS]!;
  for (let slot = 0; slot < slots; slot++) {
    const base = slotBase(slot);
    if (s[base + S_STATE] === HELD && s[base + S_WEIGHT] === 0) freeSlot(s, g, slot, events);
  }
  return s[H_FREE]!;
}

/** Wakes the threads waiting for a free slot, if any. */
function signalSlotFreed(s: Int32Array, _g: Guarded): void {
  if (Atomics.load(s, H_SLOT_WAITERS) > 0) {
    Atomics.add(s, H_SLOT_FREED, 1);
    Atomics.notify(s, H_SLOT_FREED);
  }
}

/**
 * Takes `weight` permits for `owner` if nobody is queued and enough are available: into its `HELD` slot `into`, or
 * into a new slot when `into` is -1. Returns the slot that holds them, or -1 when they cannot be had now.
 */
export function takePermits(
  s: Int32Array,
  g: Guarded,
  weight: number,
  owner: number,
  into: number,
  events: SlotEvents,
): number {
  if (s[H_HEAD] !== -1) return -1;
  const available = s[H_AVAILABLE]!;
  if (available < weight) return -1;
  let slot = into;
  if (slot !== -1) s[slotBase(slot) + S_WEIGHT]! += weight;
  else if ((slot = allocSlot(s, g, owner, weight, HELD, events)) === -1) return -1;
  s[H_AVAILABLE] = available - weight;
  return slot;
}

/**
 * Takes a slot for a waiter of `owner` asking for `weight`, gives it the next ticket and links it at the queue's
 * tail. Returns it, or -1 when no slot is free. A `grant` must follow (the queue may have been empty).
 */
export function enqueue(
  s: Int32Array,
  g: Guarded,
  owner: number,
  weight: number,
  events: SlotEvents,
): number {
  const slot = allocSlot(s, g, owner, weight, WAITING, events);
  if (slot === -1) return -1;
  const base = slotBase(slot);
  const ticket = s[H_TICKET]!;
  s[H_TICKET] = (ticket + 1) | 0;
  s[base + S_TICKET] = ticket;
  const tail = s[H_TAIL]!;
  s[base + S_PREV] = tail;
  s[base + S_NEXT] = -1;
  if (tail === -1) Atomics.store(s, H_HEAD, slot);
  else s[slotBase(tail) + S_NEXT] = slot;
  s[H_TAIL] = slot;
  Atomics.add(s, H_PENDING, 1);
  return slot;
}

/** Takes waiting slot `slot` out of the queue (it stays `WAITING`: free it next, then `grant`). */
export function unlink(s: Int32Array, _g: Guarded, slot: number): void {
  const base = slotBase(slot);
  const prev = s[base + S_PREV]!;
  const next = s[base + S_NEXT]!;
  if (prev === -1) Atomics.store(s, H_HEAD, next);
  else s[slotBase(prev) + S_NEXT] = next;
  if (next === -1) s[H_TAIL] = prev;
  else s[slotBase(next) + S_PREV] = prev;
  Atomics.sub(s, H_PENDING, 1);
}

/** Grants the queue from its head while the head's weight fits in what is available (invariant 4). */
export function grant(s: Int32Array, _g: Guarded, events: SlotEvents): void {
  let head = s[H_HEAD]!;
  if (head === -1) return;
  const before = s[H_AVAILABLE]!;
  let available = before;
  while (head !== -1) {
    const base = slotBase(head);
    const weight = s[base + S_WEIGHT]!;
    if (weight > available) break;
    available -= weight;
    const next = s[base + S_NEXT]!;
    Atomics.store(s, base + S_STATE, HELD);
    Atomics.sub(s, H_PENDING, 1);
    events.slotGranted(head, Atomics.load(s, base + S_OWNER));
    Atomics.notify(s, base + S_STATE);
    head = next;
  }
  if (head === -1) s[H_TAIL] = -1;
  else s[slotBase(head) + S_PREV] = -1;
  Atomics.store(s, H_HEAD, head);
  if (available !== before) s[H_AVAILABLE] = available;
}

/**
 * Gives back `weight` of the permits `HELD` in `slot`. The slot is freed when nothing is left in it, unless `keep`
 * (the owner's own slot, kept idle for its next take) and no thread waits for a free slot. A `grant` must follow.
 */
export function giveBack(
  s: Int32Array,
  g: Guarded,
  slot: number,
  weight: number,
  keep: boolean,
  events: SlotEvents,
): void {
  const base = slotBase(slot);
  const left = s[base + S_WEIGHT]! - weight;
  if (left > 0 || (keep && s[H_SLOT_WAITERS] === 0)) s[base + S_WEIGHT] = left;
  else freeSlot(s, g, slot, events);
  s[H_AVAILABLE]! += weight;
}

/**
 * Takes back the slot of a waiter that gives up: unlinked and freed while it waits (and its state word notified, so
 * that its own pending wait ends), its permits given back if it was granted a moment ago, freed if closed. A
 * `grant` must follow, for whoever it held up.
 */
export function withdraw(s: Int32Array, g: Guarded, slot: number, events: SlotEvents): void {
  const base = slotBase(slot);
  const state = Atomics.load(s, base + S_STATE);
  if (state === WAITING) {
    unlink(s, g, slot);
    freeSlot(s, g, slot, events);
    Atomics.notify(s, base + S_STATE);
  } else {
    if (state === HELD) Atomics.add(s, H_AVAILABLE, s[base + S_WEIGHT]!);
    freeSlot(s, g, slot, events);
  }
}

/**
 * Closes the lock: every queued waiter is closed (see {@link SlotEvents.slotClosed}) and woken, the queue emptied,
 * and every thread waiting for a free slot woken to see it. Returns false when it was closed already.
 */
export function closeQueue(s: Int32Array, g: Guarded, events: SlotEvents): boolean {
  if (Atomics.load(s, H_CLOSED) !== 0) return false;
  Atomics.store(s, H_CLOSED, 1);
  let slot = Atomics.load(s, H_HEAD);
  while (slot !== -1) {
    const base = slotBase(slot);
    const next = s[base + S_NEXT]!;
    if (events.slotClosed(slot, Atomics.load(s, base + S_OWNER))) freeSlot(s, g, slot, events);
    else Atomics.store(s, base + S_STATE, CLOSED);
    Atomics.notify(s, base + S_STATE);
    slot = next;
  }
  Atomics.store(s, H_HEAD, -1);
  s[H_TAIL] = -1;
  Atomics.store(s, H_PENDING, 0);
  Atomics.add(s, H_SLOT_FREED, 1);
  Atomics.notify(s, H_SLOT_FREED);
  return true;
}

/**
 * Frees every slot of thread `owner` (what it holds, waits for, or was told of a close), waking its waits, without
 * linking them anywhere: the header is stale until {@link rebuild}. Returns the permits it held.
 */
export function dropOwner(s: Int32Array, _g: Guarded, owner: number, events: SlotEvents): number {
  const slots = s[H_SLOTS]!;
  let freed = 0;
  for (let slot = 0; slot < slots; slot++) {
    const base = slotBase(slot);
    const state = Atomics.load(s, base + S_STATE);
    if (state === FREE || Atomics.load(s, base + S_OWNER) !== owner) continue;
    if (state === HELD) freed += s[base + S_WEIGHT]!;
    events.slotFreed(slot, owner);
    Atomics.add(s, base + S_GEN, 1);
    Atomics.store(s, base + S_STATE, FREE);
    s[base + S_WEIGHT] = 0;
    Atomics.notify(s, base + S_STATE);
  }
  return freed;
}

/**
 * Rebuilds the header from the slot records, the source of truth: the queue in ticket order and its length, the
 * free list, and the permits available. Wakes every granted or closed slot (a thread that died between granting and
 * notifying must not strand its waiter) and the threads waiting for a free slot. A `grant` must follow.
 */
export function rebuild(s: Int32Array, g: Guarded): void {
  const slots = s[H_SLOTS]!;
  let held = 0;
  let free = -1;
  const waiting: number[] = [];
  for (let slot = slots - 1; slot >= 0; slot--) {
    const base = slotBase(slot);
    const state = Atomics.load(s, base + S_STATE);
    if (state === FREE) {
      s[base + S_NEXT] = free;
      free = slot;
    } else if (state === WAITING) {
      waiting.push(slot);
    } else {
      if (state === HELD) held += s[base + S_WEIGHT]!;
      Atomics.notify(s, base + S_STATE);
    }
  }
  // Arrival order, tickets compared modulo 2^32.
  waiting.sort((a, b) => (s[slotBase(a) + S_TICKET]! - s[slotBase(b) + S_TICKET]!) | 0);
  let prev = -1;
  for (const slot of waiting) {
    const base = slotBase(slot);
    s[base + S_PREV] = prev;
    s[base + S_NEXT] = -1;
    if (prev !== -1) s[slotBase(prev) + S_NEXT] = slot;
    prev = slot;
  }
  Atomics.store(s, H_HEAD, waiting.length > 0 ? waiting[0]! : -1);
  s[H_TAIL] = prev;
  Atomics.store(s, H_PENDING, waiting.length);
  s[H_FREE] = free;
  Atomics.store(s, H_AVAILABLE, s[H_CAPACITY]! - held);
  if (free !== -1) signalSlotFreed(s, g);
}

/** The owner of the first slot holding permits, or undefined (a snapshot, read without the guard). */
export function firstHolder(s: Int32Array): number | undefined {
  const slots = Atomics.load(s, H_SLOTS);
  for (let slot = 0; slot < slots; slot++) {
    const base = slotBase(slot);
    if (Atomics.load(s, base + S_STATE) === HELD && Atomics.load(s, base + S_WEIGHT) > 0) {
      return Atomics.load(s, base + S_OWNER);
    }
  }
  return undefined;
}

/** Moves the permits of granted slot `from` into `into`, a `HELD` slot of the same owner, and frees `from`. */
export function merge(s: Int32Array, g: Guarded, from: number, into: number, events: SlotEvents): void {
  s[slotBase(into) + S_WEIGHT]! += s[slotBase(from) + S_WEIGHT]!;
  freeSlot(s, g, from, events);
}

/** Counts one more thread waiting for a free slot. */
export function startSlotWait(s: Int32Array, _g: Guarded): void {
  Atomics.add(s, H_SLOT_WAITERS, 1);
}

/**
 * Counts one fewer thread waiting for a free slot. With `wake`, also bumps and notifies `H_SLOT_FREED`, so that
 * the caller's own pending watch of it ends.
 */
export function stopSlotWait(s: Int32Array, _g: Guarded, wake: boolean): void {
  Atomics.sub(s, H_SLOT_WAITERS, 1);
  if (wake) {
    Atomics.add(s, H_SLOT_FREED, 1);
    Atomics.notify(s, H_SLOT_FREED);
  }
}
