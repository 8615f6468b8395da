/**
 * The engine behind `SharedMutex` and `SharedSemaphore`: a weighted FIFO semaphore whose whole state is in shared
 * memory (see handle.ts for the layout), driven by one `SharedCore` per thread and buffer.
 *
 * Every change happens under a guard: a tiny futex-style spinlock in the header, held for a few dozen instructions
 * and never across a wait. Under it a caller either takes permits at once (queue empty, enough available) or takes a
 * slot, gets the next arrival ticket and is linked at the queue's tail. Whoever frees permits (release, a waiter
 * withdrawn, a dead thread recovered) grants the queue from the head while the head's weight fits, marking each slot
 * `HELD` and notifying its state word. Waiters wait on their own slot's state word: `Atomics.waitAsync` for async
 * callers (polling with backoff where it is missing), `Atomics.wait` for the `*Sync` forms. A withdrawn waiter
 * (abort, timeout) unlinks its slot under the guard and re-runs the grant, so nobody behind it is blocked.
 *
 * Holding threads keep one `HELD` slot each (its weight is the sum of their permits), so that the permits of a thread
 * that dies can be found and given back by `releaseThread`.
 */
import { ClosedError } from '../errors.js';
import { timeoutError, Waiter } from '../internal/cancel.js';
import { OwnedPermit, type PermitOwner } from '../internal/permit.js';
import { WaitQueue } from '../internal/wait-queue.js';
import type { Permit } from '../types.js';
import {
  canAtomicsWait,
  currentThreadId,
  forgetOnExit,
  holdAlive,
  releaseAlive,
  releaseOnExit,
  type ExitCleanup,
} from './environment.js';
import {
  CLOSED,
  FREE,
  H_AVAILABLE,
  H_CAPACITY,
  H_CLOSED,
  H_FREE,
  H_GUARD,
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
} from './handle.js';

type WaitAsyncResult = { async: false; value: string } | { async: true; value: Promise<string> };
type WaitAsync = (typeArray: Int32Array, index: number, value: number, timeout?: number) => WaitAsyncResult;

/** Read at call time, so that the polling fallback can be exercised by removing it. */
function waitAsyncFunction(): WaitAsync | undefined {
  const fn = (Atomics as { waitAsync?: unknown }).waitAsync;
  return typeof fn === 'function' ? (fn as WaitAsync) : undefined;
}

/** Polling fallback (no `Atomics.waitAsync`): first check after 1 ms, doubling up to 16 ms. */
const POLL_FIRST_MS = 1;
const POLL_MAX_MS = 16;
/** Spins on the guard before parking on it. */
const GUARD_SPINS = 64;
/** Checks of its slot a blocking waiter makes before it parks (a few microseconds). */
const SYNC_SPINS = 200;
/** How long a guard must stay held by a thread declared dead before recovery takes it over. */
const GUARD_STEAL_MS = 20;

function now(): number {
  return performance.now();
}

/**
 * The `HELD` slot in which this thread records the permits it holds; every permit handed out on this thread is an
 * `OwnedPermit` of it. The generation tells it apart from a later use of the same slot (after `releaseThread`).
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

/** An async caller of `lock()` / `acquire()` on this thread. */
class LocalWaiter extends Waiter<Permit> {
  /** Its slot in shared memory, or -1 while it waits in this thread's overflow queue for one. */
  slot = -1;
  gen = 0;
  done = false;
  permit: Permit | undefined = undefined;
  pollTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  pollDelay = POLL_FIRST_MS;
  /** Handed to the `Atomics.waitAsync` promise; one per waiter, since the promise only passes a string. */
  readonly wake = (): void => this.core.onWake(this);

  constructor(
    readonly core: SharedCore,
    readonly weight: number,
    private readonly where: string,
  ) {
    super();
    holdAlive();
  }

  get operation(): string {
    return this.where;
  }

  cancel(reason: unknown): void {
    this.core.withdraw(this, reason);
  }

  resolve(permit: Permit): void {
    if (this.done) return;
    this.finish();
    this.grant(permit);
  }

  reject(reason: unknown): void {
    if (this.done) return;
    this.finish();
    this.fail(reason);
  }

  private finish(): void {
    this.done = true;
    if (this.pollTimer !== undefined) clearTimeout(this.pollTimer);
    releaseAlive();
  }
}

function pollWaiter(waiter: LocalWaiter): void {
  waiter.pollTimer = undefined;
  waiter.core.onWake(waiter);
}

function pollSlots(core: SharedCore): void {
  core.onSlotFreed();
}

const cores = new WeakMap<SharedArrayBuffer, SharedCore>();

/** The engine of one lock's memory on this thread. */
export class SharedCore implements ExitCleanup {
  readonly s: Int32Array;
  readonly capacity: number;
  readonly slotCount: number;
  /** This thread's id, the owner recorded in the slots it takes. */
  readonly me: number;
  /** What this thread writes into the guard word while it holds the guard. */
  private readonly guardTag: number;
  /** This thread's async waiters, by slot, so that grants made on this thread settle them at once. */
  private readonly local: (LocalWaiter | undefined)[];
  /** Async waiters of this thread for which no slot was free, oldest first. */
  private readonly overflow = new WaitQueue<LocalWaiter>();
  /** The slot recording the permits this thread holds through this core. */
  private hold: HoldRecord | null = null;
  /** Async waiters of this thread granted under the guard, settled once it is released. */
  private readonly granted: LocalWaiter[] = [];
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
    this.capacity = Atomics.load(this.s, H_CAPACITY);
    this.slotCount = Atomics.load(this.s, H_SLOTS);
    this.me = currentThreadId();
    this.guardTag = (this.me + 1) << 1;
    this.local = new Array<LocalWaiter | undefined>(this.slotCount);
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
    const s = this.s;
    for (let i = 0; i < this.slotCount; i++) {
      const base = slotBase(i);
      if (Atomics.load(s, base + S_STATE) === HELD && Atomics.load(s, base + S_WEIGHT) > 0) {
        return Atomics.load(s, base + S_OWNER);
      }
    }
    return undefined;
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

  // ----- the guard -----
  // The guard word is 0 when free; its holder stores (thread id + 1) << 1 there, with bit 0 set once other threads
  // park on it (then releasing wakes one). Keeping the holder in the same word costs nothing on the fast path and
  // lets recovery tell a guard held by a dead thread.

  private lockGuard(): void {
    if (Atomics.compareExchange(this.s, H_GUARD, 0, this.guardTag) !== 0) this.lockGuardSlow();
  }

  private lockGuardSlow(): void {
    const s = this.s;
    const tag = this.guardTag;
    for (let i = 0; i < GUARD_SPINS; i++) {
      if (Atomics.load(s, H_GUARD) === 0 && Atomics.compareExchange(s, H_GUARD, 0, tag) === 0) return;
    }
    const park = canAtomicsWait();
    for (;;) {
      let current = Atomics.load(s, H_GUARD);
      if (current === 0) {
        // Taken as "contended": others may be parked behind us.
        if (Atomics.compareExchange(s, H_GUARD, 0, tag | 1) === 0) return;
        continue;
      }
      if ((current & 1) === 0) {
        if (Atomics.compareExchange(s, H_GUARD, current, current | 1) !== current) continue;
        current |= 1;
      }
      if (park) Atomics.wait(s, H_GUARD, current, 1);
    }
  }

  private unlockGuard(): void {
    if ((Atomics.exchange(this.s, H_GUARD, 0) & 1) !== 0) Atomics.notify(this.s, H_GUARD, 1);
  }

  /** Takes the guard for recovering `deadThread`, taking it over if that thread died holding it. */
  private lockGuardForRecovery(deadThread: number): void {
    const s = this.s;
    const deadTag = (deadThread + 1) << 1;
    let heldByDeadSince = -1;
    const park = canAtomicsWait();
    for (;;) {
      const current = Atomics.load(s, H_GUARD);
      if (current === 0) {
        if (Atomics.compareExchange(s, H_GUARD, 0, this.guardTag | 1) === 0) return;
        continue;
      }
      if ((current & ~1) === deadTag) {
        const t = now();
        if (heldByDeadSince < 0) heldByDeadSince = t;
        else if (t - heldByDeadSince >= GUARD_STEAL_MS) {
          if (Atomics.compareExchange(s, H_GUARD, current, this.guardTag | 1) === current) return;
        }
      } else {
        heldByDeadSince = -1;
      }
      if (park) Atomics.wait(s, H_GUARD, current, 1);
    }
  }

  // ----- slots (under the guard) -----

  private allocSlot(weight: number, state: number): number {
    const s = this.s;
    let slot = s[H_FREE]!;
    if (slot === -1 && (slot = this.reclaimIdleLocked()) === -1) return -1;
    const base = slotBase(slot);
    s[H_FREE] = s[base + S_NEXT]!;
    s[base + S_WEIGHT] = weight;
    Atomics.store(s, base + S_OWNER, this.me);
    Atomics.store(s, base + S_STATE, state);
    if (this.used++ === 0) releaseOnExit(this);
    return slot;
  }

  private freeSlot(slot: number): void {
    const s = this.s;
    const base = slotBase(slot);
    if (Atomics.load(s, base + S_OWNER) === this.me && this.used > 0 && --this.used === 0) forgetOnExit(this);
    Atomics.add(s, base + S_GEN, 1);
    Atomics.store(s, base + S_STATE, FREE);
    s[base + S_WEIGHT] = 0;
    s[base + S_NEXT] = s[H_FREE]!;
    s[H_FREE] = slot;
    this.signalSlotFreed();
  }

  /**
   * Frees the idle `HELD` slots (weight 0) that threads keep between lock/unlock pairs, when no slot is free. Their
   * threads notice by the generation and take a new slot next time. Returns the first free slot, or -1.
   */
  private reclaimIdleLocked(): number {
    const s = this.s;
    for (let slot = 0; slot < this.slotCount; slot++) {
      const base = slotBase(slot);
      if (s[base + S_STATE] === HELD && s[base + S_WEIGHT] === 0) this.freeSlot(slot);
    }
    return s[H_FREE]!;
  }

  private signalSlotFreed(): void {
    const s = this.s;
    if (Atomics.load(s, H_SLOT_WAITERS) > 0) {
      Atomics.add(s, H_SLOT_FREED, 1);
      Atomics.notify(s, H_SLOT_FREED);
    }
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
  private takeLocked(weight: number): Permit | undefined {
    const s = this.s;
    if (s[H_HEAD] !== -1) return undefined;
    const available = s[H_AVAILABLE]!;
    if (available < weight) return undefined;
    let hold = this.holdRecord();
    if (hold !== null) {
      s[slotBase(hold.slot) + S_WEIGHT]! += weight;
    } else {
      const slot = this.allocSlot(weight, HELD);
      if (slot === -1) return undefined;
      hold = this.newHoldRecord(slot);
    }
    s[H_AVAILABLE] = available - weight;
    return new OwnedPermit(hold, weight);
  }

  /** Takes a slot for a waiter of `weight` and links it at the queue's tail; -1 when no slot is free. */
  private enqueueLocked(weight: number): number {
    const s = this.s;
    const slot = this.allocSlot(weight, WAITING);
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

  private unlinkLocked(slot: number): void {
    const s = this.s;
    const base = slotBase(slot);
    const prev = s[base + S_PREV]!;
    const next = s[base + S_NEXT]!;
    if (prev === -1) Atomics.store(s, H_HEAD, next);
    else s[slotBase(prev) + S_NEXT] = next;
    if (next === -1) s[H_TAIL] = prev;
    else s[slotBase(next) + S_PREV] = prev;
    Atomics.sub(s, H_PENDING, 1);
  }

  /** Grants queued waiters from the head while the head's weight fits in what is available. */
  private grantLocked(): void {
    const s = this.s;
    let head = s[H_HEAD]!;
    if (head === -1) return;
    const before = s[H_AVAILABLE]!;
    let available = before;
    const firstGranted = this.granted.length;
    while (head !== -1) {
      const base = slotBase(head);
      const weight = s[base + S_WEIGHT]!;
      if (weight > available) break;
      available -= weight;
      const next = s[base + S_NEXT]!;
      Atomics.store(s, base + S_STATE, HELD);
      Atomics.sub(s, H_PENDING, 1);
      const waiter = Atomics.load(s, base + S_OWNER) === this.me ? this.local[head] : undefined;
      if (waiter !== undefined) {
        this.local[head] = undefined;
        this.localQueued--;
        this.granted.push(waiter);
      }
      Atomics.notify(s, base + S_STATE);
      head = next;
    }
    if (head === -1) s[H_TAIL] = -1;
    else s[slotBase(head) + S_PREV] = -1;
    Atomics.store(s, H_HEAD, head);
    if (available !== before) s[H_AVAILABLE] = available;
    // Waiters of this thread granted here get their permits now, while the guard is held.
    for (let i = firstGranted; i < this.granted.length; i++) {
      const waiter = this.granted[i]!;
      waiter.permit = this.adoptLocked(waiter.slot, waiter.weight);
    }
  }

  /** Folds a granted waiter's slot into this thread's `HELD` slot and returns its permit. */
  private adoptLocked(slot: number, weight: number): Permit {
    let hold = this.holdRecord();
    if (hold !== null) {
      this.s[slotBase(hold.slot) + S_WEIGHT]! += weight;
      this.freeSlot(slot);
    } else {
      hold = this.newHoldRecord(slot);
    }
    return new OwnedPermit(hold, weight);
  }

  /** Settles the waiters granted under the guard. Call after releasing it. */
  private settleGranted(): void {
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
    return this.closeReason !== undefined ? this.closeReason : new ClosedError('SharedSemaphore closed');
  }

  tryAcquire(weight: number): Permit | undefined {
    if (this.overflow.length > 0) return undefined;
    this.lockGuard();
    const permit = this.s[H_CLOSED] !== 0 ? undefined : this.takeLocked(weight);
    this.unlockGuard();
    return permit;
  }

  acquire(
    weight: number,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    where: string,
  ): Promise<Permit> {
    const s = this.s;
    this.lockGuard();
    if (s[H_CLOSED] !== 0) {
      this.unlockGuard();
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the reason given to close()
      return Promise.reject(this.closedError());
    }
    if (this.overflow.length === 0) {
      const permit = this.takeLocked(weight);
      if (permit !== undefined) {
        this.unlockGuard();
        return Promise.resolve(permit);
      }
    }
    if (timeout === 0) {
      this.unlockGuard();
      return Promise.reject(timeoutError(where, 0));
    }
    const waiter = new LocalWaiter(this, weight, where);
    const promise = waiter.wait(signal, timeout);
    const slot = this.overflow.length === 0 ? this.enqueueLocked(weight) : -1;
    if (slot !== -1) {
      waiter.slot = slot;
      waiter.gen = Atomics.load(s, slotBase(slot) + S_GEN);
      this.local[slot] = waiter;
      this.localQueued++;
      this.grantLocked();
      this.unlockGuard();
      this.settleGranted();
      if (!waiter.done) this.arm(waiter);
    } else {
      this.overflow.push(waiter);
      const watch = this.overflow.length === 1 && this.startSlotWaitLocked();
      this.unlockGuard();
      if (watch) this.watchSlots();
    }
    return promise;
  }

  /** Waits on the waiter's slot until it changes. */
  private arm(waiter: LocalWaiter): void {
    const waitAsync = waitAsyncFunction();
    if (waitAsync !== undefined) {
      const result = waitAsync(this.s, slotBase(waiter.slot) + S_STATE, WAITING);
      if (result.async) void result.value.then(waiter.wake);
      else this.onWake(waiter);
    } else {
      waiter.pollTimer = setTimeout(pollWaiter, waiter.pollDelay, waiter);
      waiter.pollDelay = Math.min(waiter.pollDelay * 2, POLL_MAX_MS);
    }
  }

  /** The waiter's slot changed (or a poll is due): granted, closed, withdrawn by recovery, or a spurious wake. */
  onWake(waiter: LocalWaiter): void {
    if (waiter.done) return;
    const s = this.s;
    const base = slotBase(waiter.slot);
    if (Atomics.load(s, base + S_GEN) === waiter.gen) {
      const state = Atomics.load(s, base + S_STATE);
      if (state === WAITING) {
        this.arm(waiter);
        return;
      }
      this.lockGuard();
      if (Atomics.load(s, base + S_GEN) === waiter.gen) {
        if (this.local[waiter.slot] === waiter) {
          this.local[waiter.slot] = undefined;
          this.localQueued--;
        }
        if (state === HELD) {
          const permit = this.adoptLocked(waiter.slot, waiter.weight);
          this.unlockGuard();
          waiter.resolve(permit);
          return;
        }
        this.freeSlot(waiter.slot);
        this.unlockGuard();
        waiter.reject(this.closedError());
        return;
      }
      this.unlockGuard();
    }
    if (this.local[waiter.slot] === waiter) {
      this.local[waiter.slot] = undefined;
      this.localQueued--;
    }
    waiter.reject(new Error(`${waiter.operation}: the wait was withdrawn by releaseThread(${this.me})`));
  }

  /** Abort or timeout of an async waiter: it leaves the queue at once and the waiters behind it move up. */
  withdraw(waiter: LocalWaiter, reason: unknown): void {
    if (waiter.done) return;
    const s = this.s;
    if (waiter.slot === -1) {
      this.overflow.remove(waiter);
      if (this.overflow.length === 0) {
        this.lockGuard();
        this.stopSlotWaitLocked();
        this.unlockGuard();
      }
      waiter.reject(reason);
      return;
    }
    const slot = waiter.slot;
    const base = slotBase(slot);
    this.lockGuard();
    if (Atomics.load(s, base + S_GEN) === waiter.gen) {
      if (this.local[slot] === waiter) {
        this.local[slot] = undefined;
        this.localQueued--;
      }
      const state = Atomics.load(s, base + S_STATE);
      if (state === WAITING) {
        this.unlinkLocked(slot);
        this.freeSlot(slot);
        // Resolves this waiter's own pending Atomics.waitAsync, so that nothing of it stays behind.
        Atomics.notify(s, base + S_STATE);
      } else {
        // Granted by another thread a moment ago: the permits go back (and on to the next in line).
        if (state === HELD) Atomics.add(s, H_AVAILABLE, s[base + S_WEIGHT]!);
        this.freeSlot(slot);
      }
      this.grantLocked();
    }
    this.unlockGuard();
    this.settleGranted();
    waiter.reject(reason);
  }

  releasePermit(slot: number, gen: number, weight: number): void {
    const s = this.s;
    const base = slotBase(slot);
    this.lockGuard();
    if (s[base + S_GEN] === gen && s[base + S_STATE] === HELD) {
      const left = s[base + S_WEIGHT]! - weight;
      // This thread's own slot stays, idle, for its next lock/unlock, unless threads are waiting for a slot (and
      // if slots run out later, idle ones are reclaimed).
      if (left > 0 || (slot === this.hold?.slot && s[H_SLOT_WAITERS] === 0)) s[base + S_WEIGHT] = left;
      else this.freeSlot(slot);
      s[H_AVAILABLE]! += weight;
      this.grantLocked();
    }
    this.unlockGuard();
    this.settleGranted();
  }

  // ----- waiting for a free slot -----

  /** Counts this thread among those waiting for a slot. Under the guard; returns true. */
  private startSlotWaitLocked(): boolean {
    Atomics.add(this.s, H_SLOT_WAITERS, 1);
    return true;
  }

  private stopSlotWaitLocked(): void {
    Atomics.sub(this.s, H_SLOT_WAITERS, 1);
    // Wakes this core's own pending watch, so that it does not linger.
    Atomics.add(this.s, H_SLOT_FREED, 1);
    Atomics.notify(this.s, H_SLOT_FREED);
  }

  private watchSlots(): void {
    if (this.watchingSlots) return;
    this.watchingSlots = true;
    const waitAsync = waitAsyncFunction();
    if (waitAsync !== undefined) {
      const seen = Atomics.load(this.s, H_SLOT_FREED);
      if (this.slotsFreeLocked()) {
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

  private slotsFreeLocked(): boolean {
    return Atomics.load(this.s, H_FREE) !== -1;
  }

  /** A slot was freed somewhere (or a poll is due): moves this thread's overflow waiters into the queue. */
  onSlotFreed(): void {
    this.watchingSlots = false;
    if (this.overflow.length === 0) return;
    const s = this.s;
    const armed: LocalWaiter[] = [];
    let rejectAll = false;
    this.lockGuard();
    if (Atomics.load(s, H_CLOSED) !== 0) {
      rejectAll = true;
    } else {
      for (let waiter = this.overflow.peek(); waiter !== undefined; waiter = this.overflow.peek()) {
        const permit = this.takeLocked(waiter.weight);
        if (permit !== undefined) {
          this.overflow.shift();
          waiter.permit = permit;
          this.granted.push(waiter);
          continue;
        }
        const slot = this.enqueueLocked(waiter.weight);
        if (slot === -1) break;
        this.overflow.shift();
        waiter.slot = slot;
        waiter.gen = Atomics.load(s, slotBase(slot) + S_GEN);
        this.local[slot] = waiter;
        this.localQueued++;
        armed.push(waiter);
      }
      this.grantLocked();
    }
    if (rejectAll || this.overflow.length === 0) this.stopSlotWaitLocked();
    this.unlockGuard();
    this.settleGranted();
    if (rejectAll) {
      for (const waiter of this.overflow.drain()) waiter.reject(this.closedError());
      return;
    }
    for (const waiter of armed) if (!waiter.done) this.arm(waiter);
    if (this.overflow.length > 0) this.watchSlots();
    else this.slotPollDelay = POLL_FIRST_MS;
  }

  // ----- blocking -----

  acquireSync(weight: number, timeout: number | undefined, where: string): Permit {
    const s = this.s;
    const deadline = timeout === undefined || timeout === Infinity ? Infinity : now() + timeout;
    let slot = -1;
    let slotWait = false;
    for (;;) {
      const seen = Atomics.load(s, H_SLOT_FREED);
      this.lockGuard();
      if (Atomics.load(s, H_CLOSED) !== 0) {
        if (slotWait) Atomics.sub(s, H_SLOT_WAITERS, 1);
        this.unlockGuard();
        throw this.closedError();
      }
      const permit = this.takeLocked(weight);
      if (permit !== undefined) {
        if (slotWait) Atomics.sub(s, H_SLOT_WAITERS, 1);
        this.unlockGuard();
        return permit;
      }
      if (timeout !== 0) slot = this.enqueueLocked(weight);
      if (slot !== -1) {
        if (slotWait) Atomics.sub(s, H_SLOT_WAITERS, 1);
        this.grantLocked();
        this.unlockGuard();
        this.settleGranted();
        break;
      }
      const remaining = deadline - now();
      if (remaining <= 0) {
        if (slotWait) Atomics.sub(s, H_SLOT_WAITERS, 1);
        this.unlockGuard();
        throw timeoutError(where, timeout!);
      }
      if (!slotWait) {
        slotWait = true;
        Atomics.add(s, H_SLOT_WAITERS, 1);
      }
      this.unlockGuard();
      Atomics.wait(s, H_SLOT_FREED, seen, remaining === Infinity ? undefined : remaining);
    }
    const base = slotBase(slot);
    const gen = Atomics.load(s, base + S_GEN);
    let spins = SYNC_SPINS;
    for (;;) {
      if (Atomics.load(s, base + S_GEN) !== gen) {
        throw new Error(`${where}: the wait was withdrawn by releaseThread(${this.me})`);
      }
      const state = Atomics.load(s, base + S_STATE);
      if (state !== WAITING) break;
      const remaining = deadline - now();
      if (remaining <= 0) {
        this.lockGuard();
        if (Atomics.load(s, base + S_GEN) === gen && Atomics.load(s, base + S_STATE) === WAITING) {
          this.unlinkLocked(slot);
          this.freeSlot(slot);
          this.grantLocked();
          this.unlockGuard();
          this.settleGranted();
          throw timeoutError(where, timeout!);
        }
        this.unlockGuard();
        continue;
      }
      if (spins > 0) {
        // A hand-off usually comes within microseconds: spinning first spares the thread a sleep and a wake-up.
        spins--;
        continue;
      }
      Atomics.wait(s, base + S_STATE, WAITING, remaining === Infinity ? undefined : remaining);
    }
    this.lockGuard();
    if (Atomics.load(s, base + S_GEN) !== gen) {
      this.unlockGuard();
      throw new Error(`${where}: the wait was withdrawn by releaseThread(${this.me})`);
    }
    if (Atomics.load(s, base + S_STATE) === HELD) {
      const permit = this.adoptLocked(slot, weight);
      this.unlockGuard();
      return permit;
    }
    this.freeSlot(slot);
    this.unlockGuard();
    throw this.closedError();
  }

  // ----- closing and recovery -----

  /** Rejects every waiter, on every thread; later acquires reject too. Holders keep their permits. */
  close(reason: unknown): void {
    const s = this.s;
    const rejected: LocalWaiter[] = [];
    this.lockGuard();
    if (Atomics.load(s, H_CLOSED) !== 0) {
      this.unlockGuard();
      return;
    }
    this.closeReason = reason;
    Atomics.store(s, H_CLOSED, 1);
    let slot = Atomics.load(s, H_HEAD);
    while (slot !== -1) {
      const base = slotBase(slot);
      const next = s[base + S_NEXT]!;
      const waiter = Atomics.load(s, base + S_OWNER) === this.me ? this.local[slot] : undefined;
      if (waiter !== undefined) {
        this.local[slot] = undefined;
        this.localQueued--;
        rejected.push(waiter);
        this.freeSlot(slot);
      } else {
        Atomics.store(s, base + S_STATE, CLOSED);
      }
      Atomics.notify(s, base + S_STATE);
      slot = next;
    }
    Atomics.store(s, H_HEAD, -1);
    s[H_TAIL] = -1;
    Atomics.store(s, H_PENDING, 0);
    // Wakes every thread waiting for a slot, so that it sees the close.
    Atomics.add(s, H_SLOT_FREED, 1);
    Atomics.notify(s, H_SLOT_FREED);
    if (this.overflow.length > 0) this.stopSlotWaitLocked();
    this.unlockGuard();
    for (const waiter of rejected) waiter.reject(this.closedError());
    for (const waiter of this.overflow.drain()) waiter.reject(this.closedError());
  }

  /**
   * Gives back everything thread `thread` holds or waits for in this lock, and rebuilds the queue and the count of
   * available permits from the slots. Returns the number of permits freed.
   */
  releaseThread(thread: number): number {
    const s = this.s;
    this.lockGuardForRecovery(thread);
    let freedPermits = 0;
    let held = 0;
    let free = -1;
    const waiting: number[] = [];
    for (let slot = this.slotCount - 1; slot >= 0; slot--) {
      const base = slotBase(slot);
      let state = Atomics.load(s, base + S_STATE);
      if (state !== FREE && Atomics.load(s, base + S_OWNER) === thread) {
        if (state === HELD) freedPermits += s[base + S_WEIGHT]!;
        if (thread === this.me) {
          if (this.local[slot] !== undefined) this.localQueued--;
          this.local[slot] = undefined;
          if (this.used > 0 && --this.used === 0) forgetOnExit(this);
        }
        Atomics.add(s, base + S_GEN, 1);
        Atomics.store(s, base + S_STATE, FREE);
        s[base + S_WEIGHT] = 0;
        Atomics.notify(s, base + S_STATE);
        state = FREE;
      }
      if (state === FREE) {
        s[base + S_NEXT] = free;
        free = slot;
      } else if (state === WAITING) {
        waiting.push(slot);
      } else {
        if (state === HELD) held += s[base + S_WEIGHT]!;
        // A grant (or close) by a thread that died before notifying must still reach its waiter.
        Atomics.notify(s, base + S_STATE);
      }
    }
    // The queue, in arrival order (tickets compared modulo 2^32).
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
    Atomics.store(s, H_AVAILABLE, this.capacity - held);
    this.grantLocked();
    if (free !== -1) this.signalSlotFreed();
    this.unlockGuard();
    this.settleGranted();
    return freedPermits;
  }

  /** Runs when this thread exits on its own: gives back what it holds and withdraws its waiters. */
  releaseOwnState(): void {
    if (this.overflow.length > 0) {
      this.overflow.drain();
      this.lockGuard();
      this.stopSlotWaitLocked();
      this.unlockGuard();
    }
    this.releaseThread(this.me);
  }
}
