/**
 * SharedSemaphore on one thread: the Semaphore rules (weights, strict FIFO, tryAcquire, close, abort, timeout), and
 * a property test that drives it and a plain reference model with the same random script, through one or two views
 * of the same memory and with few or many slots, and requires the same observable behaviour after every step.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClosedError } from '../../src/errors.js';
import { SharedSemaphore } from '../../src/shared/index.js';
import type { Permit } from '../../src/types.js';
import { expectPending, rejectionOf } from '../helpers.js';
import { expectInvariants } from './invariants.js';

describe('SharedSemaphore basics', () => {
  it('validates permits like Semaphore', () => {
    expect(() => new SharedSemaphore(0)).toThrow(
      new RangeError('SharedSemaphore: permits must be a positive integer, got 0'),
    );
    expect(() => new SharedSemaphore(-1)).toThrow(RangeError);
    expect(() => new SharedSemaphore(1.5)).toThrow(RangeError);
    expect(() => new SharedSemaphore(Number.NaN)).toThrow(RangeError);
    expect(() => new SharedSemaphore('2' as never)).toThrow(
      new TypeError('SharedSemaphore: permits must be a positive integer, got "2"'),
    );
    const sem = new SharedSemaphore(3);
    expect(sem.capacity).toBe(3);
    expect(sem.available).toBe(3);
    expect(sem.pending).toBe(0);
    expect(sem.closed).toBe(false);
  });

  it('validates weights: rejects from acquire/run, throws from tryAcquire', async () => {
    const sem = new SharedSemaphore(2);
    await expect(sem.acquire(0)).rejects.toThrow(
      new RangeError('SharedSemaphore.acquire: weight must be a positive integer, got 0'),
    );
    await expect(sem.acquire(1.5)).rejects.toBeInstanceOf(RangeError);
    await expect(sem.acquire('1' as never)).rejects.toBeInstanceOf(TypeError);
    await expect(sem.acquire(3)).rejects.toThrow(
      new RangeError('SharedSemaphore.acquire: weight must be at most the capacity (2), got 3'),
    );
    await expect(sem.run(() => 1, { weight: 3 })).rejects.toBeInstanceOf(RangeError);
    expect(() => sem.tryAcquire(3)).toThrow(RangeError);
    expect(() => sem.tryAcquire(-1)).toThrow(RangeError);
    expect(sem.available).toBe(2);
  });

  it('serves a heavy head before lighter waiters behind it (no starvation)', async () => {
    const sem = new SharedSemaphore(3);
    const a = await sem.acquire(2);
    const order: string[] = [];
    const heavy = sem.acquire(3).then((p) => (order.push('heavy'), p));
    const light = sem.acquire(1).then((p) => (order.push('light'), p));
    // One permit is free, but the light waiter must not overtake the heavy head.
    await expectPending(light);
    expect(sem.tryAcquire()).toBeUndefined();
    a.release();
    const h = await heavy;
    await expectPending(light);
    h.release();
    (await light).release();
    expect(order).toEqual(['heavy', 'light']);
    expect(sem.available).toBe(3);
  });

  it('an aborted heavy head lets lighter waiters behind it proceed at once', async () => {
    const sem = new SharedSemaphore(3);
    const held = await sem.acquire(2);
    const controller = new AbortController();
    const heavy = sem.acquire(3, { signal: controller.signal });
    const light = sem.acquire(1);
    await expectPending(light);
    controller.abort(new Error('changed my mind'));
    expect(((await rejectionOf(heavy)) as Error).message).toBe('changed my mind');
    const permit = await light;
    expect(sem.pending).toBe(0);
    expect(sem.available).toBe(0);
    permit.release();
    held.release();
    expect(sem.available).toBe(3);
  });

  it('run holds opts.weight permits and releases them even when fn throws', async () => {
    const sem = new SharedSemaphore(4);
    await sem.run(
      () => {
        expect(sem.available).toBe(1);
      },
      { weight: 3 },
    );
    await expect(
      sem.run(
        () => {
          throw new Error('boom');
        },
        { weight: 2 },
      ),
    ).rejects.toThrow('boom');
    expect(sem.available).toBe(4);
  });

  it('close rejects waiters (with the reason, or ClosedError) and later acquires; held permits stay valid', async () => {
    const sem = new SharedSemaphore(1);
    const held = await sem.acquire();
    const waiter = sem.acquire();
    sem.close();
    expect(sem.closed).toBe(true);
    expect(await rejectionOf(waiter)).toBeInstanceOf(ClosedError);
    expect(await rejectionOf(sem.acquire())).toBeInstanceOf(ClosedError);
    expect(sem.tryAcquire()).toBeUndefined();
    expect(sem.pending).toBe(0);
    held.release();
    expect(sem.available).toBe(1);

    const other = new SharedSemaphore(1);
    const otherHeld = await other.acquire();
    const otherWaiter = other.acquire();
    const reason = new Error('shutting down');
    other.close(reason);
    other.close(new Error('second close is ignored'));
    expect(await rejectionOf(otherWaiter)).toBe(reason);
    expect(await rejectionOf(other.acquire())).toBe(reason);
    otherHeld.release();
  });

  it('close reaches the waiters of other views (threads) as a ClosedError', async () => {
    const sem = new SharedSemaphore(1);
    const other = SharedSemaphore.from(structuredClone(sem.handle));
    const held = await sem.acquire();
    const remote = other.acquire();
    sem.close(new Error('local reason'));
    expect(await rejectionOf(remote)).toBeInstanceOf(ClosedError);
    expect(other.closed).toBe(true);
    held.release();
  });

  it('acquireSync throws on the main thread, after checking its arguments', () => {
    const sem = new SharedSemaphore(2);
    expect(() => sem.acquireSync(0)).toThrow(RangeError);
    expect(() => sem.acquireSync()).toThrow(/main thread/);
    expect(sem.available).toBe(2);
  });

  it('releaseThread gives back the permits of a thread', async () => {
    const sem = new SharedSemaphore(5);
    await sem.acquire(2);
    await sem.acquire(1);
    expect(sem.available).toBe(2);
    const { currentThreadId } = await import('../../src/shared/index.js');
    expect(sem.releaseThread(currentThreadId())).toBe(3);
    expect(sem.available).toBe(5);
    expect(sem.releaseThread(currentThreadId())).toBe(0);
  });
});

/** The reference: a weighted strict-FIFO semaphore in a few lines, the rules of API.md. */
class ModelSemaphore {
  available: number;
  queue: { id: number; weight: number }[] = [];
  granted = new Set<number>();
  constructor(readonly capacity: number) {
    this.available = capacity;
  }
  acquire(id: number, weight: number): void {
    if (this.queue.length === 0 && this.available >= weight) {
      this.available -= weight;
      this.granted.add(id);
    } else {
      this.queue.push({ id, weight });
    }
  }
  tryAcquire(weight: number): boolean {
    if (this.queue.length > 0 || this.available < weight) return false;
    this.available -= weight;
    return true;
  }
  release(weight: number): void {
    this.available += weight;
    this.admit();
  }
  abort(id: number): boolean {
    const index = this.queue.findIndex((w) => w.id === id);
    if (index < 0) return false;
    this.queue.splice(index, 1);
    this.admit();
    return true;
  }
  private admit(): void {
    while (this.queue.length > 0 && this.queue[0]!.weight <= this.available) {
      const head = this.queue.shift()!;
      this.available -= head.weight;
      this.granted.add(head.id);
    }
  }
}

type Op =
  | { kind: 'acquire'; weight: number; view: number; abortable: boolean }
  | { kind: 'try'; weight: number; view: number }
  | { kind: 'release'; pick: number }
  | { kind: 'abort'; pick: number };

const opArb = (capacity: number): fc.Arbitrary<Op> =>
  fc.oneof(
    fc.record({
      kind: fc.constant('acquire' as const),
      weight: fc.integer({ min: 1, max: capacity }),
      view: fc.integer({ min: 0, max: 1 }),
      abortable: fc.boolean(),
    }),
    fc.record({
      kind: fc.constant('try' as const),
      weight: fc.integer({ min: 1, max: capacity }),
      view: fc.nat(1),
    }),
    fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }),
  );

/** Lets grants that travel through shared memory (to the other view) arrive. */
async function settle(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

describe('SharedSemaphore matches the reference model', () => {
  it('for random scripts of acquire / tryAcquire / release / abort, through two views', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 4 })
          .chain((capacity) =>
            fc.tuple(
              fc.constant(capacity),
              fc.constantFrom(2, 3, 128),
              fc.array(opArb(capacity), { minLength: 1, maxLength: 25 }),
            ),
          ),
        async ([capacity, slots, ops]) => {
          const sem = new SharedSemaphore(capacity, { slots });
          const views = [sem, SharedSemaphore.from(structuredClone(sem.handle))];
          const model = new ModelSemaphore(capacity);
          const permits = new Map<number, { permit: Permit; weight: number }>();
          const queued = new Map<number, { weight: number; controller: AbortController | undefined }>();
          const granted = new Set<number>();
          let nextId = 0;

          for (const op of ops) {
            if (op.kind === 'acquire') {
              // With few slots, the other view's order may interleave differently: keep to one view then.
              const view = slots < 128 ? views[0]! : views[op.view]!;
              const id = nextId++;
              const controller = op.abortable ? new AbortController() : undefined;
              queued.set(id, { weight: op.weight, controller });
              model.acquire(id, op.weight);
              view.acquire(op.weight, controller ? { signal: controller.signal } : undefined).then(
                (permit) => {
                  granted.add(id);
                  permits.set(id, { permit, weight: op.weight });
                },
                () => {},
              );
            } else if (op.kind === 'try') {
              const view = slots < 128 ? views[0]! : views[op.view]!;
              const expected = model.tryAcquire(op.weight);
              const permit = view.tryAcquire(op.weight);
              expect(permit !== undefined).toBe(expected);
              if (permit) {
                const id = nextId++;
                model.granted.add(id);
                granted.add(id);
                permits.set(id, { permit, weight: op.weight });
              }
            } else if (op.kind === 'release') {
              const ids = [...permits.keys()];
              if (ids.length === 0) continue;
              const id = ids[op.pick % ids.length]!;
              const { permit, weight } = permits.get(id)!;
              permits.delete(id);
              permit.release();
              permit.release(); // idempotent
              model.release(weight);
            } else {
              const abortable = [...queued.entries()].filter(([id, q]) => q.controller && !granted.has(id));
              if (abortable.length === 0) continue;
              const [id, q] = abortable[op.pick % abortable.length]!;
              if (model.abort(id)) {
                q.controller!.abort();
                queued.delete(id);
              }
            }
            for (const id of model.granted) queued.delete(id);
            await settle(() => [...model.granted].every((id) => granted.has(id)));
            // Nothing granted that the model did not grant, nothing the model granted missing.
            expect([...granted].sort((a, b) => a - b)).toEqual([...model.granted].sort((a, b) => a - b));
            const heldWeight = [...permits.values()].reduce((sum, p) => sum + p.weight, 0);
            expect(sem.available).toBe(capacity - heldWeight);
            expect(sem.available).toBe(model.available);
            expect(sem.pending).toBe(model.queue.length);
            expectInvariants(sem);
          }
          // Drain: release everything, then everyone queued gets through and gives back.
          for (const { permit, weight } of permits.values()) {
            permit.release();
            model.release(weight);
          }
          permits.clear();
          const unfinished = (): boolean =>
            model.queue.length > 0 || permits.size > 0 || [...model.granted].some((id) => !granted.has(id));
          for (let round = 0; round < 50 && unfinished(); round++) {
            await settle(() => [...model.granted].every((id) => granted.has(id)));
            for (const [id, { permit, weight }] of permits) {
              permits.delete(id);
              permit.release();
              model.release(weight);
            }
          }
          await settle(() => sem.available === capacity);
          expect(sem.available).toBe(capacity);
          expect(sem.pending).toBe(0);
          expectInvariants(sem);
        },
      ),
      { numRuns: Number(process.env.WEFT_FC_RUNS ?? 100) },
    );
  });
});

describe('SharedSemaphore with fewer slots than callers', () => {
  it('never over-grants and always drains, whatever the views, weights and aborts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 3 })
          .chain((capacity) =>
            fc.tuple(
              fc.constant(capacity),
              fc.integer({ min: 1, max: 3 }),
              fc.array(opArb(capacity), { minLength: 1, maxLength: 30 }),
            ),
          ),
        async ([capacity, slots, ops]) => {
          const sem = new SharedSemaphore(capacity, { slots });
          const views = [sem, SharedSemaphore.from(structuredClone(sem.handle))];
          const held = new Map<number, { permit: Permit; weight: number }>();
          const controllers = new Map<number, AbortController>();
          const settled = new Set<number>();
          let heldWeight = 0;
          let nextId = 0;
          const track = (id: number, weight: number, promise: Promise<Permit>): void => {
            promise.then(
              (permit) => {
                heldWeight += weight;
                expect(heldWeight).toBeLessThanOrEqual(capacity);
                held.set(id, { permit, weight });
                settled.add(id);
              },
              () => settled.add(id),
            );
          };
          const release = (id: number): void => {
            const { permit, weight } = held.get(id)!;
            held.delete(id);
            heldWeight -= weight;
            permit.release();
          };
          for (const op of ops) {
            if (op.kind === 'acquire' || op.kind === 'try') {
              const id = nextId++;
              const controller = op.kind === 'acquire' && op.abortable ? new AbortController() : undefined;
              if (controller) controllers.set(id, controller);
              const view = views[op.view]!;
              if (op.kind === 'try') {
                const permit = view.tryAcquire(op.weight);
                track(id, op.weight, permit ? Promise.resolve(permit) : Promise.reject(new Error('busy')));
              } else {
                track(
                  id,
                  op.weight,
                  view.acquire(op.weight, controller ? { signal: controller.signal } : undefined),
                );
              }
            } else if (op.kind === 'release') {
              const ids = [...held.keys()];
              if (ids.length > 0) release(ids[op.pick % ids.length]!);
            } else {
              const ids = [...controllers.keys()].filter((id) => !settled.has(id));
              if (ids.length > 0) controllers.get(ids[op.pick % ids.length]!)!.abort();
            }
            await new Promise((resolve) => setTimeout(resolve, 0));
            expectInvariants(sem);
          }
          // Drain: keep releasing whatever is granted until every call has settled.
          for (let round = 0; round < 500 && settled.size < nextId; round++) {
            for (const id of [...held.keys()]) release(id);
            await new Promise((resolve) => setTimeout(resolve, 0));
          }
          expect(settled.size).toBe(nextId);
          for (const id of [...held.keys()]) release(id);
          expect(sem.available).toBe(capacity);
          expect(sem.pending).toBe(0);
          expect(views[1]!.pending).toBe(0);
          expectInvariants(sem);
        },
      ),
      { numRuns: Number(process.env.WEFT_FC_RUNS ?? 100) },
    );
  });
});
