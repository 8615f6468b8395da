/**
 * The behaviour every semaphore of weft shares (the in-thread `Semaphore` and the cross-thread `SharedSemaphore`),
 * as one suite that takes a factory. Real clocks only; grants are awaited, never assumed to arrive by a given tick.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Permit, WaitOptions } from '../../src/types.js';
import { eventually, outcomeWithin, rejectionOf, sleep } from './timing.js';

/** What both semaphores have, per the contract. */
export interface SemaphoreLike {
  acquire(weight?: number, opts?: WaitOptions): Promise<Permit>;
  tryAcquire(weight?: number): Permit | undefined;
  run<T>(fn: () => T | PromiseLike<T>, opts?: WaitOptions & { weight?: number }): Promise<T>;
  readonly capacity: number;
  readonly available: number;
}

export function semaphoreConformance(name: string, create: (permits: number) => SemaphoreLike): void {
  describe(`${name}: semaphore conformance`, () => {
    it('rejects a capacity that is not a positive integer', () => {
      for (const bad of [0, -1, 1.5, Number.NaN, Infinity]) {
        expect(() => create(bad)).toThrow(RangeError);
      }
      expect(() => create(-1)).toThrow(/permits must be a positive integer, got -1/);
      expect(() => create('3' as unknown as number)).toThrow(TypeError);
    });

    it('counts capacity and available permits through weighted acquire and release', async () => {
      const sem = create(5);
      expect(sem.capacity).toBe(5);
      expect(sem.available).toBe(5);
      const a = await sem.acquire();
      const b = await sem.acquire(3);
      expect(sem.available).toBe(1);
      b.release();
      expect(sem.available).toBe(4);
      a.release();
      expect(sem.available).toBe(5);
      expect(sem.capacity).toBe(5);
    });

    it('release is idempotent and [Symbol.dispose] releases', async () => {
      const sem = create(2);
      const permit = await sem.acquire(2);
      permit.release();
      permit.release();
      permit[Symbol.dispose]();
      expect(sem.available).toBe(2);
      {
        using _held = await sem.acquire(2);
        expect(sem.available).toBe(0);
      }
      expect(sem.available).toBe(2);
    });

    it('serves waiters strictly in arrival order: a heavy head is not overtaken by lighter waiters', async () => {
      const sem = create(3);
      const held = await sem.acquire(2);
      const order: string[] = [];
      const heavy = sem.acquire(3).then((p) => (order.push('heavy'), p));
      const light = sem.acquire(1).then((p) => (order.push('light'), p));
      // One permit is free, but the heavy head needs three: nobody may pass it.
      expect(await outcomeWithin(light, 30)).toBe('pending');
      expect(sem.tryAcquire()).toBeUndefined();
      held.release();
      const heavyPermit = await heavy;
      expect(order).toEqual(['heavy']);
      expect(await outcomeWithin(light, 10)).toBe('pending');
      heavyPermit.release();
      (await light).release();
      expect(order).toEqual(['heavy', 'light']);
      await eventually(() => sem.available === 3);
    });

    it('tryAcquire takes free permits, and never while anyone waits', async () => {
      const sem = create(2);
      const a = sem.tryAcquire();
      expect(a).toBeDefined();
      expect(sem.tryAcquire(2)).toBeUndefined();
      const b = sem.tryAcquire();
      expect(b).toBeDefined();
      const waiting = sem.acquire();
      a!.release();
      expect(sem.tryAcquire()).toBeUndefined();
      (await waiting).release();
      b!.release();
      await eventually(() => sem.available === 2);
      const all = sem.tryAcquire(2);
      expect(all).toBeDefined();
      all!.release();
    });

    it('weight above the capacity rejects (acquire, run) or throws (tryAcquire) a RangeError at once', async () => {
      const sem = create(2);
      const error = await rejectionOf(sem.acquire(3));
      expect(error).toBeInstanceOf(RangeError);
      expect(await rejectionOf(sem.run(() => 1, { weight: 3 }))).toBeInstanceOf(RangeError);
      expect(() => sem.tryAcquire(3)).toThrow(RangeError);
      expect(sem.available).toBe(2);
    });

    it('bad weights reject with RangeError / TypeError and never throw from acquire or run', async () => {
      const sem = create(4);
      for (const bad of [0, -1, 1.5, Number.NaN]) {
        let promise: Promise<unknown> | undefined;
        expect(() => (promise = sem.acquire(bad))).not.toThrow();
        expect(await rejectionOf(promise!)).toBeInstanceOf(RangeError);
        expect(await rejectionOf(sem.run(() => 1, { weight: bad }))).toBeInstanceOf(RangeError);
        expect(() => sem.tryAcquire(bad)).toThrow(RangeError);
      }
      expect(await rejectionOf(sem.acquire('2' as unknown as number))).toBeInstanceOf(TypeError);
      expect(() => sem.tryAcquire('2' as unknown as number)).toThrow(TypeError);
      expect(await rejectionOf(sem.acquire(1, { timeout: -5 }))).toBeInstanceOf(RangeError);
      expect(await rejectionOf(sem.acquire(1, { signal: 'x' as unknown as AbortSignal }))).toBeInstanceOf(
        TypeError,
      );
      expect(await rejectionOf(sem.run('fn' as unknown as () => void))).toBeInstanceOf(TypeError);
      expect(sem.available).toBe(4);
    });

    it('run holds its weight while fn runs and releases it on return, throw and rejection', async () => {
      const sem = create(3);
      let seen = -1;
      expect(
        await sem.run(
          () => {
            seen = sem.available;
            return 'done';
          },
          { weight: 2 },
        ),
      ).toBe('done');
      expect(seen).toBe(1);
      const boom = new Error('boom');
      expect(
        await rejectionOf(
          sem.run(() => {
            throw boom;
          }),
        ),
      ).toBe(boom);
      expect(await rejectionOf(sem.run(async () => Promise.reject(boom), { weight: 3 }))).toBe(boom);
      await eventually(() => sem.available === 3);
    });

    it('run never calls fn synchronously', async () => {
      const sem = create(1);
      let called = false;
      const result = sem.run(() => {
        called = true;
      });
      expect(called).toBe(false);
      await result;
      expect(called).toBe(true);
    });

    it('aborting the heavy head lets the lighter waiters behind it acquire at once', async () => {
      const sem = create(4);
      const held = await sem.acquire(2);
      const controller = new AbortController();
      const heavy = sem.acquire(4, { signal: controller.signal });
      const light1 = sem.acquire(1);
      const light2 = sem.acquire(1);
      expect(await outcomeWithin(light1, 20)).toBe('pending');
      const reason = new Error('no longer needed');
      controller.abort(reason);
      expect(await rejectionOf(heavy)).toBe(reason);
      const [p1, p2] = await Promise.all([light1, light2]);
      expect(sem.available).toBe(0);
      p1.release();
      p2.release();
      held.release();
      await eventually(() => sem.available === 4);
    });

    it('a timed-out head leaves the queue and lets the waiters behind it proceed', async () => {
      const sem = create(2);
      const held = await sem.acquire();
      const heavy = sem.acquire(2, { timeout: 30 });
      const light = sem.acquire(1);
      const error = await rejectionOf(heavy);
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('TimeoutError');
      (await light).release();
      held.release();
      await eventually(() => sem.available === 2);
    });

    it('a signal that is already aborted rejects at once, even with permits free', async () => {
      const sem = create(3);
      const reason = new Error('already');
      expect(await rejectionOf(sem.acquire(1, { signal: AbortSignal.abort(reason) }))).toBe(reason);
      expect(await rejectionOf(sem.run(() => 1, { signal: AbortSignal.abort(reason) }))).toBe(reason);
      expect(sem.available).toBe(3);
    });

    it('timeout 0 takes the permits only if they are free now', async () => {
      const sem = create(2);
      const a = await sem.acquire(2, { timeout: 0 });
      expect(((await rejectionOf(sem.acquire(1, { timeout: 0 }))) as DOMException).name).toBe('TimeoutError');
      a.release();
      expect(sem.available).toBe(2);
    });

    it('never exceeds the capacity and serves every surviving waiter under random weighted workloads', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 5 }),
          fc.array(
            fc.record({
              weight: fc.integer({ min: 1, max: 5 }),
              hold: fc.integer({ min: 0, max: 2 }),
              cancel: fc.constantFrom('none', 'none', 'abort', 'timeout'),
              cancelAfter: fc.integer({ min: 0, max: 3 }),
              viaRun: fc.boolean(),
            }),
            { minLength: 1, maxLength: 12 },
          ),
          async (capacity, plan) => {
            const sem = create(capacity);
            let used = 0;
            let most = 0;
            const outcomes = await Promise.allSettled(
              plan.map(async ({ weight, hold, cancel, cancelAfter, viaRun }) => {
                const w = Math.min(weight, capacity);
                const controller = new AbortController();
                const wait: WaitOptions =
                  cancel === 'abort'
                    ? { signal: controller.signal }
                    : cancel === 'timeout'
                      ? { timeout: cancelAfter + 1 }
                      : {};
                if (cancel === 'abort') setTimeout(() => controller.abort(), cancelAfter);
                const body = async (): Promise<void> => {
                  used += w;
                  most = Math.max(most, used);
                  await sleep(hold);
                  used -= w;
                };
                if (viaRun) {
                  await sem.run(body, { ...wait, weight: w });
                } else {
                  const permit = await sem.acquire(w, wait);
                  try {
                    await body();
                  } finally {
                    permit.release();
                  }
                }
              }),
            );
            expect(most).toBeLessThanOrEqual(capacity);
            outcomes.forEach((outcome, i) => {
              if (outcome.status === 'rejected') expect(plan[i]!.cancel).not.toBe('none');
            });
            await eventually(() => sem.available === capacity);
          },
        ),
        { numRuns: 15 },
      );
    });
  });
}
