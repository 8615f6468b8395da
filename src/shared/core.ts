/**
 * The per-thread side of a cross-thread lock: one `SharedCore` per thread and buffer drives the shared memory
 * (layout.ts, where the design and its invariants are written down) for the callers on this thread.
 *
 * Each operation takes the guard (guard.ts), changes the memory through the slot table (slot-table.ts) and lets the
 * guard go, then settles what it decided: a caller either takes permits at once (queue empty, enough available) or
 * joins the queue with a slot of its own. Async waiters (`acquire`) wait on their slot's state word with
 * `Atomics.waitAsync` (polling with backoff where it is missing); blocking ones (`acquireSync`) with `Atomics.wait`.
 * A withdrawn waiter (abort, timeout) unlinks its slot under the guard and re-runs the grant, so nobody behind it is
 * blocked. Async waiters that find no free slot wait here, in this thread's overflow queue, until one frees up.
 *
 * The permits this thread holds are kept in one `HELD` slot (its weight is their sum), so that a thread that dies
 * can be found and its permits given back by `releaseThread`.
 */
import { ClosedError } from '../errors.js';
import { timeoutError } from '../internal/waiter.js';
import { ownedPermit, type PermitOwner } from '../internal/permit.js';
import { rejected } from '../internal/promise.js';
import { WaitQueue } from '../internal/wait-queue.js';
import type { Permit } from '../types.js';
import { acquireSync } from './blocking.js';
import { currentThreadId, forgetOnExit, releaseOnExit, type ExitCleanup } from './environment.js';
import { dropGuard, guardTag, takeGuard, takeGuardFromDead, type Guarded } from './guard.js';
import { kindOf, type SharedKind } from './handle.js';
import {
  H_AVAILABLE,
  H_CAPACITY,
  H_CLOSED,
  H_FREE,
  H_PENDING,
  H_SLOT_FREED,
  H_SLOTS,
  HELD,
  S_GEN,
  S_STATE,
  S_WEIGHT,
  slotBase,
  WAITING,
} from './layout.js';
import * as table from './slot-table.js';
import { LocalWaiter, POLL_FIRST_MS, POLL_MAX_MS, waitAsyncFunction } from './waiter.js';

/**
 * The `HELD` slot in which this thread records the permits it holds; every permit handed out on this thread is an
 * `ownedPermit` of it. The generation tells it apart from a later use of the same slot (after `releaseThread`).
 */
class HoldRecord implements PermitOwner {
  constructor(
    readonly core: SharedCore,
    readonly slot: number,
    readonly gen: number,
  ) {}

  releasePermit(amount: number): void {
    this.core.releasePermit(this.slot, this.gen, amount);
  }
}

function pollSlots(core: SharedCore): void {
  core.onSlotFreed();
}

const cores = new WeakMap<SharedArrayBuffer, SharedCore>();

/**
 * The engine of one lock's memory on this thread. Its unmarked members taking a `Guarded` token, with `tookSlot`,
 * `settleGranted` and the error makers, are also the blocking side's (blocking.ts).
 */
export class SharedCore implements ExitCleanup, table.SlotEvents {
  readonly s: Int32Array;
  readonly kind: SharedKind;
  readonly capacity: number;
  /** This thread's id, the owner recorded in the slots it takes. */
  readonly me: number;
  /** What this thread writes into the guard word while it holds the guard. */
  readonly guardTag: number;
  /** This thread's async waiters, by slot, so that grants made on this thread settle them at once. */
  private readonly local: (LocalWaiter | undefined)[];
  /** Async waiters of this thread for which no slot was free, oldest first. */
  private readonly overflow = new WaitQueue<LocalWaiter>();
  /** The slot recording the permits this thread holds through this core. */
  private hold: HoldRecord | null = null;
  /** Async waiters of this thread granted under the guard, settled once it is released. */
  private readonly granted: LocalWaiter[] = [];
  /** Async waiters of this thread closed under the guard, rejected once it is released. */
  private closing: LocalWaiter[] = [];
  private localQueued = 0;
  /** Slots this core took and has not freed yet; while > 0 it is registered for release on thread exit. */
  private used = 0;
  private watchingSlots = false;
  private slotPollDelay = POLL_FIRST_MS;
  /** `close(reason)` on this thread: what later calls here reject with. */
  private closeReason: unknown = undefined;
  private readonly onSlotsNotified = (): void => this.onSlotFreed();

  private constructor(buffer: SharedArrayBuffer) {
    this.s = new Int32Array(buffer);
    this.kind = kindOf(this.s);
    this.capacity = Atomics.load(this.s, H_CAPACITY);
    this.me = currentThreadId();
    this.guardTag = guardTag(this.me);
    this.local = new Array<LocalWaiter | undefined>(Atomics.load(this.s, H_SLOTS));
  }

  /** The one core of `buffer` on this thread. */
  static of(buffer: SharedArrayBuffer): SharedCore {
    let core = cores.get(buffer);
    if (core === undefined) {
      core = new SharedCore(buffer);
      cores.set(buffer, core);
    }
    return core;
  }

  // ----- reading -----

  get available(): number {
    return Atomics.load(this.s, H_AVAILABLE);
  }

  get pending(): number {
    return Atomics.load(this.s, H_PENDING) + this.overflow.length;
  }

  get closed(): boolean {
    return Atomics.load(this.s, H_CLOSED) !== 0;
  }

  /** The thread that holds permits (the first found), or undefined. */
  holder(): number | undefined {
    return table.firstHolder(this.s);
  }

  /** Whether this thread has async waiters queued through this core. */
  awaiting(): boolean {
    return this.localQueued > 0 || this.overflow.length > 0;
  }

  /** Whether this thread holds permits or has async waiters queued through this core. */
  involved(): boolean {
    const hold = this.hold;
    const base = hold === null ? -1 : slotBase(hold.slot);
    return (
      (hold !== null &&
        Atomics.load(this.s, base + S_GEN) === hold.gen &&
        Atomics.load(this.s, base + S_WEIGHT) > 0) ||
      this.localQueued > 0 ||
      this.overflow.length > 0
    );
  }

  // ----- what the slot table tells this thread (under the guard) -----

  slotGranted(slot: number, owner: number): void {
    const waiter = owner === this.me ? this.local[slot] : undefined;
    if (waiter === undefined) return;
    this.forgetLocal(slot);
    this.granted.push(waiter);
  }

  slotFreed(slot: number, owner: number): void {
    if (owner !== this.me) return;
    if (this.local[slot] !== undefined) this.forgetLocal(slot);
    if (this.used > 0 && --this.used === 0) forgetOnExit(this);
  }

  slotClosed(slot: number, owner: number): boolean {
    const waiter = owner === this.me ? this.local[slot] : undefined;
    if (waiter === undefined) return false;
    this.forgetLocal(slot);
    this.closing.push(waiter);
    return true;
  }

  // ----- this thread's records (under the guard) -----

  private forgetLocal(slot: number): void {
    this.local[slot] = undefined;
    this.localQueued--;
  }

  /** Counts a slot this thread took. */
  tookSlot(): void {
    if (this.used++ === 0) releaseOnExit(this);
  }

  /** This thread's `HELD` slot, if it has one that is still its own. */
  private holdRecord(): HoldRecord | null {
    const hold = this.hold;
    return hold !== null && this.s[slotBase(hold.slot) + S_GEN] === hold.gen ? hold : null;
  }

  private newHoldRecord(slot: number): HoldRecord {
    this.hold = new HoldRecord(this, slot, Atomics.load(this.s, slotBase(slot) + S_GEN));
    return this.hold;
  }

  /** Takes `weight` permits now if nobody is queued and enough are free. */
  take(g: Guarded, weight: number): Permit | undefined {
    let hold = this.holdRecord();
    const slot = table.takePermits(this.s, g, weight, this.me, hold === null ? -1 : hold.slot, this);
    if (slot === -1) return undefined;
    if (hold === null) {
      this.tookSlot();
      hold = this.newHoldRecord(slot);
    }
    return ownedPermit(hold, weight);
  }

  /** Queues `waiter` in shared memory; false when no slot is free. */
  private enqueue(g: Guarded, waiter: LocalWaiter): boolean {
    const slot = table.enqueue(this.s, g, this.me, waiter.weight, this);
    if (slot === -1) return false;
    this.tookSlot();
    waiter.slot = slot;
    waiter.gen = Atomics.load(this.s, slotBase(slot) + S_GEN);
    this.local[slot] = waiter;
    this.localQueued++;
    return true;
  }

  /** Grants the queue; waiters of this thread granted here get their permits now, while the guard is held. */
  grant(g: Guarded): void {
    const first = this.granted.length;
    table.grant(this.s, g, this);
    for (let i = first; i < this.granted.length; i++) {
      const waiter = this.granted[i]!;
      waiter.permit = this.adopt(g, waiter.slot, waiter.weight);
    }
  }

  /** Folds a granted slot of this thread into its `HELD` slot and returns its permit. */
  adopt(g: Guarded, slot: number, weight: number): Permit {
    let hold = this.holdRecord();
    if (hold !== null) table.merge(this.s, g, slot, hold.slot, this);
    else hold = this.newHoldRecord(slot);
    return ownedPermit(hold, weight);
  }

  /** Settles the waiters granted under the guard. Call after releasing it. */
  settleGranted(): void {
    const granted = this.granted;
    if (granted.length === 0) return;
    for (let i = 0; i < granted.length; i++) {
      const waiter = granted[i]!;
      waiter.resolve(waiter.permit!);
      waiter.permit = undefined;
    }
    granted.length = 0;
  }

  // ----- operations -----

  /** What a call on a closed lock rejects with. */
  closedError(): unknown {
    return this.closeReason !== undefined ? this.closeReason : new ClosedError(`${this.kind} closed`);
  }

  /** What a wait of this thread rejects with once `releaseThread` declared the thread dead. */
  withdrawnError(where: string): Error {
    return new Error(`${where}: the wait was withdrawn by releaseThread(${this.me})`);
  }

  tryAcquire(weight: number): Permit | undefined {
    if (this.overflow.length > 0) return undefined;
    const g = takeGuard(this.s, this.guardTag);
    const permit = this.s[H_CLOSED] !== 0 ? undefined : this.take(g, weight);
    dropGuard(this.s, g);
    return permit;
  }

  acquire(
    weight: number,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    where: string,
  ): Promise<Permit> {
    const s = this.s;
    const g = takeGuard(s, this.guardTag);
    if (s[H_CLOSED] !== 0) {
      dropGuard(s, g);
      return rejected(this.closedError());
    }
    if (this.overflow.length === 0) {
      const permit = this.take(g, weight);
      if (permit !== undefined) {
        dropGuard(s, g);
        return Promise.resolve(permit);
      }
    }
    if (timeout === 0) {
      dropGuard(s, g);
      return rejected(timeoutError(where, 0));
    }
    const waiter = new LocalWaiter(this, weight, where);
    const promise = waiter.wait(signal, timeout);
    if (this.overflow.length === 0 && this.enqueue(g, waiter)) {
      this.grant(g);
      dropGuard(s, g);
      this.settleGranted();
      if (!waiter.done) waiter.arm();
    } else {
      this.overflow.push(waiter);
      const watch = this.overflow.length === 1;
      if (watch) table.startSlotWait(s, g);
      dropGuard(s, g);
      if (watch) this.watchSlots();
    }
    return promise;
  }

  /** The waiter's slot changed (or a poll is due): granted, closed, withdrawn by recovery, or a spurious wake. */
  onWake(waiter: LocalWaiter): void {
    if (waiter.done) return;
    const s = this.s;
    const base = slotBase(waiter.slot);
    if (Atomics.load(s, base + S_GEN) === waiter.gen) {
      const state = Atomics.load(s, base + S_STATE);
      if (state === WAITING) {
        waiter.arm();
        return;
      }
      const g = takeGuard(s, this.guardTag);
      if (Atomics.load(s, base + S_GEN) === waiter.gen) {
        if (this.local[waiter.slot] === waiter) this.forgetLocal(waiter.slot);
        if (state === HELD) {
          const permit = this.adopt(g, waiter.slot, waiter.weight);
          dropGuard(s, g);
          waiter.resolve(permit);
          return;
        }
        table.freeSlot(s, g, waiter.slot, this);
        dropGuard(s, g);
        waiter.reject(this.closedError());
        return;
      }
      dropGuard(s, g);
    }
    if (this.local[waiter.slot] === waiter) this.forgetLocal(waiter.slot);
    waiter.reject(this.withdrawnError(waiter.operation));
  }

  /** Abort or timeout of an async waiter: it leaves the queue at once and the waiters behind it move up. */
  withdraw(waiter: LocalWaiter, reason: unknown): void {
    if (waiter.done) return;
    const s = this.s;
    if (waiter.slot === -1) {
      this.overflow.remove(waiter);
      if (this.overflow.length === 0) {
        const g = takeGuard(s, this.guardTag);
        table.stopSlotWait(s, g, true);
        dropGuard(s, g);
      }
      waiter.reject(reason);
      return;
    }
    const slot = waiter.slot;
    const g = takeGuard(s, this.guardTag);
    if (Atomics.load(s, slotBase(slot) + S_GEN) === waiter.gen) {
      if (this.local[slot] === waiter) this.forgetLocal(slot);
      table.withdraw(s, g, slot, this);
      this.grant(g);
    }
    dropGuard(s, g);
    this.settleGranted();
    waiter.reject(reason);
  }

  releasePermit(slot: number, gen: number, weight: number): void {
    const s = this.s;
    const base = slotBase(slot);
    const g = takeGuard(s, this.guardTag);
    if (s[base + S_GEN] === gen && s[base + S_STATE] === HELD) {
      // This thread's own slot stays, idle, for its next lock/unlock, unless threads are waiting for a slot (and
      // if slots run out later, idle ones are reclaimed).
      table.giveBack(s, g, slot, weight, slot === this.hold?.slot, this);
      this.grant(g);
    }
    dropGuard(s, g);
    this.settleGranted();
  }

  // ----- waiting for a free slot -----

  private watchSlots(): void {
    if (this.watchingSlots) return;
    this.watchingSlots = true;
    const waitAsync = waitAsyncFunction();
    if (waitAsync !== undefined) {
      const seen = Atomics.load(this.s, H_SLOT_FREED);
      if (Atomics.load(this.s, H_FREE) !== -1) {
        queueMicrotask(this.onSlotsNotified);
        return;
      }
      const result = waitAsync(this.s, H_SLOT_FREED, seen);
      if (result.async) void result.value.then(this.onSlotsNotified);
      else queueMicrotask(this.onSlotsNotified);
    } else {
      setTimeout(pollSlots, this.slotPollDelay, this);
      this.slotPollDelay = Math.min(this.slotPollDelay * 2, POLL_MAX_MS);
    }
  }

  /** A slot was freed somewhere (or a poll is due): moves this thread's overflow waiters into the queue. */
  onSlotFreed(): void {
    this.watchingSlots = false;
    if (this.overflow.length === 0) return;
    const s = this.s;
    const armed: LocalWaiter[] = [];
    let rejectAll = false;
    const g = takeGuard(s, this.guardTag);
    if (Atomics.load(s, H_CLOSED) !== 0) {
      rejectAll = true;
    } else {
      for (let waiter = this.overflow.peek(); waiter !== undefined; waiter = this.overflow.peek()) {
        const permit = this.take(g, waiter.weight);
        if (permit !== undefined) {
          this.overflow.shift();
          waiter.permit = permit;
          this.granted.push(waiter);
          continue;
        }
        if (!this.enqueue(g, waiter)) break;
        this.overflow.shift();
        armed.push(waiter);
      }
      this.grant(g);
    }
    if (rejectAll || this.overflow.length === 0) table.stopSlotWait(s, g, true);
    dropGuard(s, g);
    this.settleGranted();
    if (rejectAll) {
      for (const waiter of this.overflow.drain()) waiter.reject(this.closedError());
      return;
    }
    for (const waiter of armed) if (!waiter.done) waiter.arm();
    if (this.overflow.length > 0) this.watchSlots();
    else this.slotPollDelay = POLL_FIRST_MS;
  }

  /** Blocks this thread until `weight` permits are had (blocking.ts). */
  acquireSync(weight: number, timeout: number | undefined, where: string): Permit {
    return acquireSync(this, weight, timeout, where);
  }

  // ----- closing and recovery -----

  /** Rejects every waiter, on every thread; later acquires reject too. Holders keep their permits. */
  close(reason: unknown): void {
    const s = this.s;
    const g = takeGuard(s, this.guardTag);
    if (!table.closeQueue(s, g, this)) {
      dropGuard(s, g);
      return;
    }
    this.closeReason = reason;
    if (this.overflow.length > 0) table.stopSlotWait(s, g, true);
    dropGuard(s, g);
    const closing = this.closing;
    this.closing = [];
    for (const waiter of closing) waiter.reject(this.closedError());
    for (const waiter of this.overflow.drain()) waiter.reject(this.closedError());
  }

  /**
   * Gives back everything thread `thread` holds or waits for in this lock, and rebuilds the queue and the count of
   * available permits from the slots. Returns the number of permits freed.
   */
  releaseThread(thread: number): number {
    const s = this.s;
    const g = takeGuardFromDead(s, this.guardTag, thread);
    const freed = table.dropOwner(s, g, thread, this);
    table.rebuild(s, g);
    this.grant(g);
    dropGuard(s, g);
    this.settleGranted();
    return freed;
  }

  /** Runs when this thread exits on its own: gives back what it holds and withdraws its waiters. */
  releaseOwnState(): void {
    if (this.overflow.length > 0) {
      this.overflow.drain();
      const g = takeGuard(this.s, this.guardTag);
      table.stopSlotWait(this.s, g, true);
      dropGuard(this.s, g);
    }
    this.releaseThread(this.me);
  }
}
