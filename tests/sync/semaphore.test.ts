import { AsyncLocalStorage } from 'node:async_hooks';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClosedError, Semaphore, type Permit } from '../../src/sync/index.js';
import { expectPending, flush, rejectionOf, stateOf } from '../helpers.js';

describe('Semaphore: validation messages', () => {
  it('names the argument and the value', () => {
    expect(() => new Semaphore(-1)).toThrow(
      new RangeError('Semaphore: permits must be a positive integer, got -1'),
    );
    expect(() => new Semaphore(0)).toThrow(
      new RangeError('Semaphore: permits must be a positive integer, got 0'),
    );
    expect(() => new Semaphore(2.5)).toThrow(RangeError);
    expect(() => new Semaphore('3' as unknown as number)).toThrow(
      new TypeError('Semaphore: permits must be a positive integer, got "3"'),
    );
    expect(() => new Semaphore(undefined as unknown as number)).toThrow(TypeError);
  });

  it('rejects bad weights from acquire and run, throws them from tryAcquire', async () => {
    const sem = new Semaphore(2);
    expect(await rejectionOf(sem.acquire(0))).toEqual(
      new RangeError('Semaphore.acquire: weight must be a positive integer, got 0'),
    );
    expect(await rejectionOf(sem.acquire(null as unknown as number))).toEqual(
      new TypeError('Semaphore.acquire: weight must be a positive integer, got null'),
    );
    expect(await rejectionOf(sem.acquire(3))).toEqual(
      new RangeError('Semaphore.acquire: weight must be at most the capacity (2), got 3'),
    );
    expect(await rejectionOf(sem.run(() => 1, { weight: -2 }))).toEqual(
      new RangeError('Semaphore.run: weight must be a positive integer, got -2'),
    );
    expect(await rejectionOf(sem.run(() => 1, { weight: 5 }))).toEqual(
      new RangeError('Semaphore.run: weight must be at most the capacity (2), got 5'),
    );
    expect(await rejectionOf(sem.run(42 as unknown as () => void))).toEqual(
      new TypeError('Semaphore.run: fn must be a function, got 42'),
    );
    expect(() => sem.tryAcquire(1.5)).toThrow(
      new RangeError('Semaphore.tryAcquire: weight must be a positive integer, got 1.5'),
    );
    expect(() => sem.tryAcquire(3)).toThrow(
      new RangeError('Semaphore.tryAcquire: weight must be at most the capacity (2), got 3'),
    );
  });

  it('rejects bad wait options with messages naming the option', async () => {
    const sem = new Semaphore(1);
    expect(await rejectionOf(sem.acquire(1, { timeout: -1 }))).toEqual(
      new RangeError('Semaphore.acquire: timeout must be a non-negative number of milliseconds, got -1'),
    );
    expect(await rejectionOf(sem.acquire(1, { signal: 'x' as unknown as AbortSignal }))).toEqual(
      new TypeError('Semaphore.acquire: signal must be an AbortSignal, got "x"'),
    );
    expect(await rejectionOf(sem.run(() => 1, 'fast' as unknown as { weight: number }))).toEqual(
      new TypeError('Semaphore.run: options must be an object, got "fast"'),
    );
    expect(sem.available).toBe(1);
  });
});

describe('Semaphore: queueing', () => {
  it('reports pending waiters and hands permits over in arrival order', async () => {
    const sem = new Semaphore(2);
    const held = sem.tryAcquire(2)!;
    const order: number[] = [];
    const waits = [1, 1, 2].map((w, i) => sem.acquire(w).then((p) => (order.push(i), p)));
    expect(sem.pending).toBe(3);
    held.release();
    await flush();
    expect(order).toEqual([0, 1]);
    expect(sem.pending).toBe(1);
    expect(sem.available).toBe(0);
    const [a, b] = await Promise.all([waits[0]!, waits[1]!]);
    a.release();
    await expectPending(waits[2]!);
    b.release();
    await flush();
    expect(order).toEqual([0, 1, 2]);
    expect(sem.pending).toBe(0);
  });

  it('removes an aborted waiter at once: pending drops before any microtask runs', () => {
    const sem = new Semaphore(1);
    sem.tryAcquire();
    const controller = new AbortController();
    const waits = Array.from({ length: 1000 }, () => sem.acquire(1, { signal: controller.signal }));
    for (const wait of waits) wait.catch(() => {});
    expect(sem.pending).toBe(1000);
    controller.abort();
    expect(sem.pending).toBe(0);
  });

  it('pending goes back to 0 after mass aborts of waiters with their own signals', async () => {
    const sem = new Semaphore(3);
    const held = sem.tryAcquire(3)!;
    const controllers = Array.from({ length: 500 }, () => new AbortController());
    const waits = controllers.map((c, i) => sem.acquire((i % 3) + 1, { signal: c.signal }));
    for (const c of controllers) c.abort();
    expect(sem.pending).toBe(0);
    const outcomes = await Promise.allSettled(waits);
    expect(outcomes.every((o) => o.status === 'rejected')).toBe(true);
    held.release();
    expect(sem.available).toBe(3);
  });
});

describe('Semaphore: run', () => {
  it("runs queued functions in their caller's async context", async () => {
    const sem = new Semaphore(1);
    const store = new AsyncLocalStorage<number>();
    const seen = await Promise.all(
      Array.from({ length: 10 }, (_, id) =>
        store.run(id, () =>
          sem.run(async () => {
            await Promise.resolve();
            return store.getStore();
          }),
        ),
      ),
    );
    expect(seen).toEqual(Array.from({ length: 10 }, (_, id) => id));
  });

  it('starts fn after the caller continues, and holds the weight until fn settles', async () => {
    const sem = new Semaphore(3);
    const log: string[] = [];
    let finish!: () => void;
    const done = sem.run(
      () => {
        log.push('fn');
        return new Promise<void>((resolve) => (finish = resolve));
      },
      { weight: 2 },
    );
    log.push('caller');
    expect(sem.available).toBe(1);
    await flush();
    expect(log).toEqual(['caller', 'fn']);
    expect(sem.available).toBe(1);
    finish();
    await done;
    expect(sem.available).toBe(3);
  });
});

describe('Semaphore: timeouts (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('rejects with a TimeoutError naming the method after exactly the timeout', async () => {
    const sem = new Semaphore(1);
    sem.tryAcquire();
    const wait = sem.acquire(1, { timeout: 100 });
    await vi.advanceTimersByTimeAsync(99);
    expect(await stateOf(wait)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    const error = (await rejectionOf(wait)) as DOMException;
    expect(error).toBeInstanceOf(DOMException);
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toBe('Semaphore.acquire timed out after 100 ms');
    expect(sem.pending).toBe(0);
  });

  it('a grant clears the timer and the abort listener', async () => {
    const sem = new Semaphore(1);
    const held = sem.tryAcquire()!;
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const wait = sem.acquire(1, { signal: controller.signal, timeout: 1_000 });
    expect(vi.getTimerCount()).toBe(1);
    held.release();
    (await wait).release();
    expect(vi.getTimerCount()).toBe(0);
    expect(remove).toHaveBeenCalledTimes(1);
  });

  it('a run that times out while queued rejects and never calls fn', async () => {
    const sem = new Semaphore(1);
    const held = sem.tryAcquire()!;
    const fn = vi.fn();
    const outcome = rejectionOf(sem.run(fn, { timeout: 10 }));
    await vi.advanceTimersByTimeAsync(10);
    expect(((await outcome) as DOMException).message).toBe('Semaphore.run timed out after 10 ms');
    held.release();
    await flush();
    expect(fn).not.toHaveBeenCalled();
    expect(sem.available).toBe(1);
  });

  it('timeout 0 rejects at once without arming a timer when it would have to wait', async () => {
    const sem = new Semaphore(1);
    sem.tryAcquire();
    const wait = sem.acquire(1, { timeout: 0 });
    expect(vi.getTimerCount()).toBe(0);
    expect(sem.pending).toBe(0);
    expect(((await rejectionOf(wait)) as DOMException).name).toBe('TimeoutError');
  });

  it('an Infinity timeout waits without a timer', () => {
    const sem = new Semaphore(1);
    sem.tryAcquire();
    void sem.acquire(1, { timeout: Infinity });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('Semaphore: close', () => {
  it('rejects pending and later waits with a ClosedError; held permits stay valid', async () => {
    const sem = new Semaphore(2);
    const held = sem.tryAcquire(2)!;
    const waiting = sem.acquire();
    const running = sem.run(() => 'never');
    expect(sem.closed).toBe(false);
    sem.close();
    expect(sem.closed).toBe(true);
    expect(sem.pending).toBe(0);
    const error = await rejectionOf(waiting);
    expect(error).toBeInstanceOf(ClosedError);
    expect((error as Error).message).toBe('Semaphore closed');
    expect(await rejectionOf(running)).toBeInstanceOf(ClosedError);
    expect(await rejectionOf(sem.acquire())).toBeInstanceOf(ClosedError);
    expect(await rejectionOf(sem.run(() => 1))).toBeInstanceOf(ClosedError);
    expect(sem.tryAcquire()).toBeUndefined();
    held.release();
    expect(sem.available).toBe(2);
    expect(sem.tryAcquire()).toBeUndefined();
  });

  it('rejects with the reason itself when one is given; only the first close counts', async () => {
    const sem = new Semaphore(1);
    sem.tryAcquire();
    const waiting = sem.acquire();
    const reason = { code: 'SHUTDOWN' };
    sem.close(reason);
    sem.close(new Error('second'));
    expect(await rejectionOf(waiting)).toBe(reason);
    expect(await rejectionOf(sem.acquire())).toBe(reason);
  });

  it('gives every rejected waiter its own ClosedError', async () => {
    const sem = new Semaphore(1);
    sem.tryAcquire();
    const a = sem.acquire();
    const b = sem.acquire();
    sem.close();
    const [ea, eb] = [await rejectionOf(a), await rejectionOf(b)];
    expect(ea).toBeInstanceOf(ClosedError);
    expect(ea).not.toBe(eb);
  });
});

describe('Semaphore: permits', () => {
  it('a permit released twice gives its permits back once', () => {
    const sem = new Semaphore(3);
    const permit = sem.tryAcquire(2)!;
    permit.release();
    permit.release();
    expect(sem.available).toBe(3);
  });

  it('works with using declarations', async () => {
    const sem = new Semaphore(1);
    {
      using _permit = await sem.acquire();
      expect(sem.available).toBe(0);
    }
    expect(sem.available).toBe(1);
    try {
      using _permit = sem.tryAcquire()!;
      throw new Error('inside');
    } catch {
      // released by the using declaration on the way out
    }
    expect(sem.available).toBe(1);
  });
});

describe('Semaphore: model-based property', () => {
  type Op =
    | { kind: 'acquire'; weight: number; abortable: boolean }
    | { kind: 'try'; weight: number }
    | { kind: 'release'; pick: number }
    | { kind: 'abort'; pick: number };

  const op = (capacity: number): fc.Arbitrary<Op> =>
    fc.oneof(
      fc.record({
        kind: fc.constant('acquire' as const),
        weight: fc.integer({ min: 1, max: capacity }),
        abortable: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('try' as const), weight: fc.integer({ min: 1, max: capacity }) }),
      fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }),
    );

  it('matches a strict-FIFO model: grants, grant order, available and pending, never over capacity', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 6 })
          .chain((capacity) => fc.tuple(fc.constant(capacity), fc.array(op(capacity), { maxLength: 40 }))),
        async ([capacity, ops]) => {
          const sem = new Semaphore(capacity);
          // The model.
          let available = capacity;
          const queue: { id: number; weight: number }[] = [];
          const modelHeld = new Map<number, number>();
          const modelOrder: number[] = [];
          const admit = (): void => {
            while (queue.length > 0 && queue[0]!.weight <= available) {
              const head = queue.shift()!;
              available -= head.weight;
              modelHeld.set(head.id, head.weight);
              modelOrder.push(head.id);
            }
          };
          // The real thing.
          const permits = new Map<number, Permit>();
          const controllers = new Map<number, AbortController>();
          const realOrder: number[] = [];
          let next = 0;
          for (const o of ops) {
            if (o.kind === 'acquire') {
              const id = next++;
              const controller = o.abortable ? new AbortController() : undefined;
              if (controller) controllers.set(id, controller);
              sem.acquire(o.weight, controller ? { signal: controller.signal } : undefined).then(
                (p) => {
                  permits.set(id, p);
                  realOrder.push(id);
                },
                () => {},
              );
              if (queue.length === 0 && available >= o.weight) {
                available -= o.weight;
                modelHeld.set(id, o.weight);
                modelOrder.push(id);
              } else queue.push({ id, weight: o.weight });
            } else if (o.kind === 'try') {
              const id = next++;
              const permit = sem.tryAcquire(o.weight);
              const expected = queue.length === 0 && available >= o.weight;
              expect(permit !== undefined).toBe(expected);
              if (permit) {
                available -= o.weight;
                modelHeld.set(id, o.weight);
                modelOrder.push(id);
                permits.set(id, permit);
                realOrder.push(id);
              }
            } else if (o.kind === 'release') {
              const ids = [...modelHeld.keys()];
              if (ids.length === 0) continue;
              const id = ids[o.pick % ids.length]!;
              permits.get(id)!.release();
              available += modelHeld.get(id)!;
              modelHeld.delete(id);
              admit();
            } else {
              const abortable = queue.filter((w) => controllers.has(w.id));
              if (abortable.length === 0) continue;
              const target = abortable[o.pick % abortable.length]!;
              controllers.get(target.id)!.abort();
              queue.splice(queue.indexOf(target), 1);
              admit();
            }
            expect(sem.available).toBe(available);
            expect(sem.pending).toBe(queue.length);
            await flush(4);
            expect(realOrder).toEqual(modelOrder);
            let inUse = 0;
            for (const w of modelHeld.values()) inUse += w;
            expect(inUse + available).toBe(capacity);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('Semaphore.run: every task runs its own function once, in FIFO order, within capacity', () => {
  type Op =
    | { kind: 'run'; weight: number; abortable: boolean }
    | { kind: 'acquire'; weight: number }
    | { kind: 'finish'; pick: number }
    | { kind: 'abort'; pick: number };

  it('holds for random mixes of run, acquire, finishing and aborting', async () => {
    const op = (capacity: number): fc.Arbitrary<Op> =>
      fc.oneof(
        fc.record({
          kind: fc.constant('run' as const),
          weight: fc.integer({ min: 1, max: capacity }),
          abortable: fc.boolean(),
        }),
        fc.record({ kind: fc.constant('acquire' as const), weight: fc.integer({ min: 1, max: capacity }) }),
        fc.record({ kind: fc.constant('finish' as const), pick: fc.nat() }),
        fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }),
      );
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 4 })
          .chain((capacity) =>
            fc.tuple(
              fc.constant(capacity),
              fc.array(fc.tuple(op(capacity), fc.boolean()), { maxLength: 40 }),
            ),
          ),
        async ([capacity, steps]) => {
          const sem = new Semaphore(capacity);
          const calls = new Map<number, number>();
          const running = new Map<number, { weight: number; finish: () => void }>();
          const started: number[] = [];
          const outcomes = new Map<number, unknown>();
          const controllers = new Map<number, AbortController>();
          const aborted = new Set<number>();
          const order: number[] = [];
          let inUse = 0;
          let next = 0;
          const check = (): void => expect(inUse).toBeLessThanOrEqual(capacity);
          // Each step may or may not let microtasks run before the next, so admissions and starts interleave.
          for (const [o, settle] of steps) {
            const id = next++;
            if (o.kind === 'run') {
              order.push(id);
              const controller = o.abortable ? new AbortController() : undefined;
              if (controller) controllers.set(id, controller);
              const fn = (): Promise<number> => {
                calls.set(id, (calls.get(id) ?? 0) + 1);
                started.push(id);
                inUse += o.weight;
                check();
                return new Promise<number>((resolve) => {
                  running.set(id, {
                    weight: o.weight,
                    finish: () => {
                      inUse -= o.weight;
                      resolve(id);
                    },
                  });
                });
              };
              // No options at all for the common call, which takes the fast path.
              const options = controller
                ? { weight: o.weight, signal: controller.signal }
                : o.weight === 1
                  ? undefined
                  : { weight: o.weight };
              sem.run(fn, options).then(
                (value) => outcomes.set(id, value),
                (error: unknown) => outcomes.set(id, error),
              );
            } else if (o.kind === 'acquire') {
              order.push(id);
              void sem.acquire(o.weight).then((permit) => {
                started.push(id);
                inUse += o.weight;
                check();
                running.set(id, {
                  weight: o.weight,
                  finish: () => {
                    inUse -= o.weight;
                    permit.release();
                  },
                });
              });
            } else if (o.kind === 'finish') {
              const ids = [...running.keys()];
              if (ids.length > 0) {
                const pick = ids[o.pick % ids.length]!;
                running.get(pick)!.finish();
                running.delete(pick);
              }
            } else {
              const waiting = [...controllers.keys()].filter((k) => !started.includes(k) && !aborted.has(k));
              if (waiting.length > 0) {
                const pick = waiting[o.pick % waiting.length]!;
                aborted.add(pick);
                controllers.get(pick)!.abort();
              }
            }
            if (settle) await flush(6);
          }
          await flush(6);
          // Drain: finish whatever runs until everything queued has run.
          for (let guard = 0; running.size > 0 && guard < 200; guard++) {
            for (const [id, task] of [...running]) {
              running.delete(id);
              task.finish();
            }
            await flush(6);
          }
          expect(sem.available).toBe(capacity);
          expect(sem.pending).toBe(0);
          // Strict FIFO: what started, started in call order, and nothing but the withdrawn ones was skipped.
          // An abort takes effect only while the task is queued; once admitted, the task runs.
          const withdrawn = [...aborted].filter((id) => outcomes.get(id) instanceof DOMException);
          expect(started).toEqual(order.filter((id) => !withdrawn.includes(id)));
          for (const [id, count] of calls) {
            expect(count).toBe(1);
            expect(outcomes.get(id)).toBe(id);
          }
          for (const id of withdrawn) {
            expect(calls.has(id)).toBe(false);
            expect((outcomes.get(id) as DOMException).name).toBe('AbortError');
          }
        },
      ),
      {
        numRuns: 300,
        // A run admitted at once, then one admitted by a release in the same turn: their starts must not cross.
        examples: [
          [
            [
              2,
              [
                [{ kind: 'acquire', weight: 1 }, true],
                [{ kind: 'run', weight: 1, abortable: false }, false],
                [{ kind: 'run', weight: 1, abortable: false }, false],
                [{ kind: 'finish', pick: 0 }, false],
              ],
            ],
          ],
        ],
      },
    );
  });
});
