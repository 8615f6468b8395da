/**
 * The slot table of the shared locks (src/shared/slot-table.ts) on one thread, against a plain model: entries in a
 * Map, the queue in an array. Random scripts of take, enqueue, withdraw, give back, adopt, recovery (drop an owner
 * and rebuild), close and free run on both; after every operation the memory must satisfy `checkInvariants` and show
 * exactly the model's state (permits, queue order, each entry's slot, what was granted and freed).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dropGuard, guardTag, takeGuard, type Guarded } from '../../src/shared/guard.js';
import {
  checkInvariants,
  CLOSED,
  FREE,
  H_AVAILABLE,
  H_CLOSED,
  H_HEAD,
  H_PENDING,
  H_SLOT_WAITERS,
  H_TICKET,
  HEADER_INTS,
  HELD,
  initLayout,
  S_NEXT,
  S_OWNER,
  S_STATE,
  S_WEIGHT,
  SLOT_INTS,
  slotBase,
  WAITING,
} from '../../src/shared/layout.js';
import * as table from '../../src/shared/slot-table.js';

const TAG = guardTag(0);
const numeric = (a: number, b: number): number => a - b;
/** The owner whose waiters `close` frees at once (the closing thread's own); the others are marked CLOSED. */
const CLOSER = 0;

function newTable(capacity: number, slots: number, ticket = 0): Int32Array {
  const s = new Int32Array(new SharedArrayBuffer((HEADER_INTS + slots * SLOT_INTS) * 4));
  initLayout(s, 2, capacity, slots);
  s[H_TICKET] = ticket;
  return s;
}

/** Runs `step` under the guard, then checks the invariants with the guard free again. */
function guarded<T>(s: Int32Array, step: (g: Guarded) => T): T {
  const g = takeGuard(s, TAG);
  const result = step(g);
  dropGuard(s, g);
  checkInvariants(s);
  return result;
}

/** Records what the table reports, as the per-thread side would. */
class Recorder implements table.SlotEvents {
  granted: number[] = [];
  freed: number[] = [];

  slotGranted(slot: number): void {
    this.granted.push(slot);
  }

  slotFreed(slot: number): void {
    this.freed.push(slot);
  }

  slotClosed(_slot: number, owner: number): boolean {
    return owner === CLOSER;
  }

  take(): { granted: number[]; freed: number[] } {
    const taken = { granted: this.granted, freed: this.freed };
    this.granted = [];
    this.freed = [];
    return taken;
  }
}

type State = 'held' | 'waiting' | 'closed';
interface Entry {
  owner: number;
  weight: number;
  state: State;
}

/** What the slot table should hold, in the plainest terms. */
class Model {
  available: number;
  closed = false;
  slotWaiters = 0;
  readonly entries = new Map<number, Entry>();
  queue: number[] = [];
  /** Each owner's entry holding its permits (what `HoldRecord` tracks). */
  readonly hold = new Map<number, number>();
  private nextId = 0;

  constructor(
    readonly capacity: number,
    readonly slots: number,
  ) {
    this.available = capacity;
  }

  /** Whether a slot can be had; frees the idle holds (weight 0) first when none is free. Returns those freed. */
  alloc(): { ok: boolean; reclaimed: number[] } {
    const reclaimed: number[] = [];
    if (this.entries.size === this.slots) {
      for (const [id, entry] of this.entries) {
        if (entry.state === 'held' && entry.weight === 0) reclaimed.push(id);
      }
      for (const id of reclaimed) this.remove(id);
    }
    return { ok: this.entries.size < this.slots, reclaimed };
  }

  add(owner: number, weight: number, state: State): number {
    const id = this.nextId++;
    this.entries.set(id, { owner, weight, state });
    return id;
  }

  remove(id: number): void {
    const entry = this.entries.get(id)!;
    this.entries.delete(id);
    if (this.hold.get(entry.owner) === id) this.hold.delete(entry.owner);
  }

  grant(): number[] {
    const granted: number[] = [];
    while (this.queue.length > 0) {
      const entry = this.entries.get(this.queue[0]!)!;
      if (entry.weight > this.available) break;
      this.available -= entry.weight;
      entry.state = 'held';
      granted.push(this.queue.shift()!);
    }
    return granted;
  }

  /** Granted entries not yet folded into their owner's hold. */
  unadopted(): number[] {
    return [...this.entries]
      .filter(([id, e]) => e.state === 'held' && this.hold.get(e.owner) !== id)
      .map(([id]) => id);
  }
}

type Op =
  | { kind: 'take' | 'enqueue'; owner: number; weight: number }
  | { kind: 'withdraw' | 'adopt' | 'finish'; pick: number }
  | { kind: 'giveBack'; owner: number; amount: number; keep: boolean }
  | { kind: 'drop'; owner: number }
  | { kind: 'rebuild' | 'close' }
  | { kind: 'slotWait'; start: boolean };

const opArb = (capacity: number): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('take' as const),
        owner: fc.nat(2),
        weight: fc.integer({ min: 1, max: capacity }),
      }),
    },
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant('enqueue' as const),
        owner: fc.nat(2),
        weight: fc.integer({ min: 1, max: capacity }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('withdraw' as const), pick: fc.nat(20) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('adopt' as const), pick: fc.nat(20) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('finish' as const), pick: fc.nat(20) }) },
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('giveBack' as const),
        owner: fc.nat(2),
        amount: fc.integer({ min: 1, max: capacity }),
        keep: fc.boolean(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), owner: fc.nat(2) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('rebuild' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('slotWait' as const), start: fc.boolean() }) },
  );

/** The queue as the memory links it, head to tail. */
function queueOf(s: Int32Array): number[] {
  const queue: number[] = [];
  for (let slot = s[H_HEAD]!; slot !== -1 && queue.length <= 1024; slot = s[slotBase(slot) + S_NEXT]!)
    queue.push(slot);
  return queue;
}

const STATES: Record<State, number> = { held: HELD, waiting: WAITING, closed: CLOSED };

function expectSameState(s: Int32Array, model: Model, slotOf: Map<number, number>): void {
  expect(s[H_AVAILABLE]).toBe(model.available);
  expect(s[H_PENDING]).toBe(model.queue.length);
  expect(s[H_CLOSED]).toBe(model.closed ? 1 : 0);
  expect(queueOf(s)).toEqual(model.queue.map((id) => slotOf.get(id)));
  expect([...slotOf.keys()].sort((a, b) => a - b)).toEqual([...model.entries.keys()].sort((a, b) => a - b));
  for (const [id, entry] of model.entries) {
    const base = slotBase(slotOf.get(id)!);
    expect([s[base + S_STATE], s[base + S_OWNER], s[base + S_WEIGHT]]).toEqual([
      STATES[entry.state],
      entry.owner,
      entry.weight,
    ]);
  }
  let free = 0;
  for (let slot = 0; slot < model.slots; slot++) if (s[slotBase(slot) + S_STATE] === FREE) free++;
  expect(free).toBe(model.slots - model.entries.size);
}

describe('slot table against a model', () => {
  it('keeps the invariants and the model state through any script of operations', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }).chain((capacity) =>
          fc.tuple(
            fc.constant(capacity),
            fc.integer({ min: 1, max: 6 }),
            // Tickets start anywhere, so that scripts also cross the wrap at 2^31.
            fc.oneof(fc.constant(0), fc.integer({ min: 0x7ffffff8, max: 0x7fffffff }), fc.integer()),
            fc.array(opArb(capacity), { minLength: 1, maxLength: 60 }),
          ),
        ),
        ([capacity, slots, ticket, ops]) => {
          const s = newTable(capacity, slots, ticket);
          const model = new Model(capacity, slots);
          const events = new Recorder();
          const slotOf = new Map<number, number>();
          /** Drops the mappings of entries the model removed. */
          const forget = (ids: number[]): void => ids.forEach((id) => slotOf.delete(id));
          /** Grants in both, and checks that the same waiters were granted, in the same order. */
          const grantBoth = (g: Guarded): void => {
            table.grant(s, g, events);
            expect(events.take().granted).toEqual(model.grant().map((id) => slotOf.get(id)));
          };

          for (const op of ops) {
            switch (op.kind) {
              case 'take': {
                if (model.closed) break;
                const holdId = model.hold.get(op.owner);
                const into = holdId === undefined ? -1 : slotOf.get(holdId)!;
                let expected = model.queue.length === 0 && model.available >= op.weight;
                let reclaimedSlots: number[] = [];
                if (expected && holdId === undefined) {
                  const { ok, reclaimed } = model.alloc();
                  expected = ok;
                  reclaimedSlots = reclaimed.map((id) => slotOf.get(id)!);
                  forget(reclaimed);
                }
                const slot = guarded(s, (g) => table.takePermits(s, g, op.weight, op.owner, into, events));
                expect(events.take().freed.sort(numeric)).toEqual(reclaimedSlots.sort(numeric));
                expect(slot !== -1).toBe(expected);
                if (!expected) break;
                model.available -= op.weight;
                if (holdId !== undefined) {
                  expect(slot).toBe(into);
                  model.entries.get(holdId)!.weight += op.weight;
                } else {
                  const id = model.add(op.owner, op.weight, 'held');
                  model.hold.set(op.owner, id);
                  slotOf.set(id, slot);
                }
                break;
              }
              case 'enqueue': {
                if (model.closed) break;
                const { ok, reclaimed } = model.alloc();
                const reclaimedSlots = reclaimed.map((id) => slotOf.get(id)!);
                forget(reclaimed);
                guarded(s, (g) => {
                  const slot = table.enqueue(s, g, op.owner, op.weight, events);
                  expect(events.take().freed.sort(numeric)).toEqual(reclaimedSlots.sort(numeric));
                  expect(slot !== -1).toBe(ok);
                  if (slot === -1) return;
                  const id = model.add(op.owner, op.weight, 'waiting');
                  model.queue.push(id);
                  slotOf.set(id, slot);
                  grantBoth(g);
                });
                break;
              }
              case 'withdraw': {
                // A waiter giving up: still queued, granted a moment ago (not adopted yet), or closed.
                const ids = [...model.queue, ...model.unadopted()];
                for (const [id, e] of model.entries) if (e.state === 'closed') ids.push(id);
                if (ids.length === 0) break;
                const id = ids[op.pick % ids.length]!;
                const entry = model.entries.get(id)!;
                if (entry.state === 'waiting') model.queue = model.queue.filter((q) => q !== id);
                if (entry.state === 'held') model.available += entry.weight;
                const slot = slotOf.get(id)!;
                model.remove(id);
                forget([id]);
                guarded(s, (g) => {
                  table.withdraw(s, g, slot, events);
                  expect(events.take().freed).toEqual([slot]);
                  grantBoth(g);
                });
                break;
              }
              case 'adopt': {
                // The owner's thread folds a granted slot into its hold, or keeps it as its hold.
                const ids = model.unadopted();
                if (ids.length === 0) break;
                const id = ids[op.pick % ids.length]!;
                const entry = model.entries.get(id)!;
                const holdId = model.hold.get(entry.owner);
                if (holdId === undefined) {
                  model.hold.set(entry.owner, id);
                  break;
                }
                const from = slotOf.get(id)!;
                model.entries.get(holdId)!.weight += entry.weight;
                model.remove(id);
                forget([id]);
                guarded(s, (g) => table.merge(s, g, from, slotOf.get(holdId)!, events));
                expect(events.take().freed).toEqual([from]);
                break;
              }
              case 'finish': {
                // The owner of a closed wait frees its slot.
                const ids = [...model.entries].filter(([, e]) => e.state === 'closed').map(([id]) => id);
                if (ids.length === 0) break;
                const id = ids[op.pick % ids.length]!;
                const slot = slotOf.get(id)!;
                model.remove(id);
                forget([id]);
                guarded(s, (g) => table.freeSlot(s, g, slot, events));
                expect(events.take().freed).toEqual([slot]);
                break;
              }
              case 'giveBack': {
                const holdId = model.hold.get(op.owner);
                const entry = holdId === undefined ? undefined : model.entries.get(holdId);
                if (entry === undefined || entry.weight === 0) break;
                const amount = Math.min(op.amount, entry.weight);
                const slot = slotOf.get(holdId!)!;
                const left = entry.weight - amount;
                const keeps = left > 0 || (op.keep && model.slotWaiters === 0);
                if (keeps) entry.weight = left;
                else {
                  model.remove(holdId!);
                  forget([holdId!]);
                }
                model.available += amount;
                guarded(s, (g) => {
                  table.giveBack(s, g, slot, amount, op.keep, events);
                  expect(events.take().freed).toEqual(keeps ? [] : [slot]);
                  grantBoth(g);
                });
                break;
              }
              case 'drop': {
                // Recovery of a dead owner: everything of its is freed, the header rebuilt from the slots.
                const gone = [...model.entries].filter(([, e]) => e.owner === op.owner);
                const freedPermits = gone.reduce(
                  (sum, [, e]) => sum + (e.state === 'held' ? e.weight : 0),
                  0,
                );
                const goneSlots = gone.map(([id]) => slotOf.get(id)!);
                for (const [id] of gone) {
                  model.remove(id);
                  slotOf.delete(id);
                }
                model.queue = model.queue.filter((id) => model.entries.has(id));
                model.available += freedPermits;
                guarded(s, (g) => {
                  expect(table.dropOwner(s, g, op.owner, events)).toBe(freedPermits);
                  expect(events.take().freed.sort(numeric)).toEqual(goneSlots.sort(numeric));
                  table.rebuild(s, g);
                  grantBoth(g);
                });
                break;
              }
              case 'rebuild':
                guarded(s, (g) => {
                  table.rebuild(s, g);
                  grantBoth(g);
                });
                break;
              case 'close': {
                const wasClosed = model.closed;
                const freedSlots: number[] = [];
                if (!wasClosed) {
                  model.closed = true;
                  for (const id of model.queue) {
                    const entry = model.entries.get(id)!;
                    if (entry.owner === CLOSER) {
                      freedSlots.push(slotOf.get(id)!);
                      model.remove(id);
                      slotOf.delete(id);
                    } else {
                      entry.state = 'closed';
                    }
                  }
                  model.queue = [];
                }
                expect(guarded(s, (g) => table.closeQueue(s, g, events))).toBe(!wasClosed);
                expect(events.take().freed).toEqual(freedSlots);
                break;
              }
              case 'slotWait':
                if (op.start) {
                  model.slotWaiters++;
                  guarded(s, (g) => table.startSlotWait(s, g));
                } else if (model.slotWaiters > 0) {
                  model.slotWaiters--;
                  guarded(s, (g) => table.stopSlotWait(s, g, true));
                }
                expect(s[H_SLOT_WAITERS]).toBe(model.slotWaiters);
                break;
            }
            expectSameState(s, model, slotOf);
          }
        },
      ),
      { numRuns: Number(process.env.WEFT_FC_RUNS ?? 300) },
    );
  });
});
