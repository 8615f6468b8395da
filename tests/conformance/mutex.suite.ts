/**
 * The behaviour every mutex of weft shares (the in-thread `Mutex` and the cross-thread `SharedMutex`), as one suite
 * that takes a factory. It uses real clocks only (no fake timers) and waits for grants instead of assuming when they
 * arrive, so it holds for locks woken by `Atomics.waitAsync` as well as by microtasks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Permit, WaitOptions } from '../../src/types.js';
import { eventually, outcomeWithin, rejectionOf, sleep } from './timing.js';

/** What both mutexes have, per the contract. */
export interface MutexLike {
  lock(opts?: WaitOptions): Promise<Permit>;
  tryLock(): Permit | undefined;
  run<T>(fn: () => T | PromiseLike<T>, opts?: WaitOptions): Promise<T>;
}

export function mutexConformance(name: string, create: () => MutexLike): void {
  describe(`${name}: mutex conformance`, () => {
    it('lock resolves at once when free, and tryLock fails while it is held', async () => {
      const mutex = create();
      const lock = await mutex.lock();
      expect(mutex.tryLock()).toBeUndefined();
      lock.release();
      const again = mutex.tryLock();
      expect(again).toBeDefined();
      again!.release();
    });

    it('hands the lock to waiters one at a time, in arrival order', async () => {
      const mutex = create();
      const first = await mutex.lock();
      const order: number[] = [];
      const waiters = [1, 2, 3, 4].map((i) =>
        mutex.lock().then((lock) => {
          order.push(i);
          return lock;
        }),
      );
      expect(await outcomeWithin(waiters[0]!, 20)).toBe('pending');
      first.release();
      for (let i = 0; i < waiters.length; i++) {
        const lock = await waiters[i]!;
        expect(order).toEqual([1, 2, 3, 4].slice(0, i + 1));
        if (i + 1 < waiters.length) expect(await outcomeWithin(waiters[i + 1]!, 10)).toBe('pending');
        lock.release();
      }
      expect(mutex.tryLock()).toBeDefined();
    });

    it('tryLock never jumps the queue', async () => {
      const mutex = create();
      const held = await mutex.lock();
      const waiting = mutex.lock();
      held.release();
      // Whether or not the waiter has woken yet, the lock is its, not tryLock's.
      expect(mutex.tryLock()).toBeUndefined();
      (await waiting).release();
    });

    it('release is idempotent and [Symbol.dispose] releases', async () => {
      const mutex = create();
      const a = await mutex.lock();
      a.release();
      const b = await mutex.lock();
      a.release(); // a second release of an old permit must not free b's lock
      a[Symbol.dispose]();
      expect(mutex.tryLock()).toBeUndefined();
      b[Symbol.dispose]();
      b.release();
      const c = mutex.tryLock();
      expect(c).toBeDefined();
      c!.release();
    });

    it('run returns the result of fn and releases the lock', async () => {
      const mutex = create();
      expect(await mutex.run(() => 7)).toBe(7);
      expect(await mutex.run(async () => 'async')).toBe('async');
      const lock = mutex.tryLock();
      expect(lock).toBeDefined();
      lock!.release();
    });

    it('run releases when fn throws or rejects, and rejects with that error', async () => {
      const mutex = create();
      const syncError = new Error('sync');
      const asyncError = new Error('async');
      expect(
        await rejectionOf(
          mutex.run(() => {
            throw syncError;
          }),
        ),
      ).toBe(syncError);
      expect(await rejectionOf(mutex.run(() => Promise.reject(asyncError)))).toBe(asyncError);
      const lock = mutex.tryLock();
      expect(lock).toBeDefined();
      lock!.release();
    });

    it('run never calls fn synchronously', async () => {
      const mutex = create();
      let called = false;
      const result = mutex.run(() => {
        called = true;
      });
      expect(called).toBe(false);
      await result;
      expect(called).toBe(true);
    });

    it('run holds the lock for the whole of an async fn', async () => {
      const mutex = create();
      let inside = 0;
      let most = 0;
      await Promise.all(
        Array.from({ length: 5 }, () =>
          mutex.run(async () => {
            inside++;
            most = Math.max(most, inside);
            await sleep(2);
            inside--;
          }),
        ),
      );
      expect(most).toBe(1);
    });

    it('an aborted waiter rejects with signal.reason, leaves the queue, and the next waiter proceeds', async () => {
      const mutex = create();
      const held = await mutex.lock();
      const controller = new AbortController();
      const aborted = mutex.lock({ signal: controller.signal });
      const next = mutex.lock();
      const reason = new Error('stop');
      controller.abort(reason);
      expect(await rejectionOf(aborted)).toBe(reason);
      held.release();
      const lock = await next;
      lock.release();
      const free = mutex.tryLock();
      expect(free).toBeDefined();
      free!.release();
    });

    it('aborting with no reason rejects with a DOMException named AbortError', async () => {
      const mutex = create();
      const held = await mutex.lock();
      const controller = new AbortController();
      const waiting = mutex.lock({ signal: controller.signal });
      controller.abort();
      const error = await rejectionOf(waiting);
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('AbortError');
      held.release();
    });

    it('a signal that is already aborted rejects at once, even when the lock is free', async () => {
      const mutex = create();
      const reason = new Error('already');
      expect(await rejectionOf(mutex.lock({ signal: AbortSignal.abort(reason) }))).toBe(reason);
      let called = false;
      const run = mutex.run(
        () => {
          called = true;
        },
        { signal: AbortSignal.abort(reason) },
      );
      expect(await rejectionOf(run)).toBe(reason);
      expect(called).toBe(false);
      const lock = mutex.tryLock();
      expect(lock).toBeDefined();
      lock!.release();
    });

    it('a timed-out waiter rejects with a TimeoutError DOMException and leaves the queue', async () => {
      const mutex = create();
      const held = await mutex.lock();
      const started = Date.now();
      const error = await rejectionOf(mutex.lock({ timeout: 30 }));
      expect(Date.now() - started).toBeGreaterThanOrEqual(20);
      expect(error).toBeInstanceOf(DOMException);
      expect((error as DOMException).name).toBe('TimeoutError');
      held.release();
      const lock = await mutex.lock({ timeout: 1_000 });
      lock.release();
    });

    it('timeout 0 takes the lock only if it is free now', async () => {
      const mutex = create();
      const lock = await mutex.lock({ timeout: 0 });
      const error = await rejectionOf(mutex.lock({ timeout: 0 }));
      expect((error as DOMException).name).toBe('TimeoutError');
      lock.release();
    });

    it('a run that times out while waiting never calls fn', async () => {
      const mutex = create();
      const held = await mutex.lock();
      let called = false;
      const run = mutex.run(
        () => {
          called = true;
        },
        { timeout: 10 },
      );
      expect(((await rejectionOf(run)) as DOMException).name).toBe('TimeoutError');
      held.release();
      await sleep(5);
      expect(called).toBe(false);
    });

    it('bad arguments reject with TypeError / RangeError instead of throwing', async () => {
      const mutex = create();
      const calls: (() => Promise<unknown>)[] = [
        () => mutex.lock({ timeout: -1 }),
        () => mutex.lock({ timeout: Number.NaN }),
        () => mutex.lock({ timeout: '5' as unknown as number }),
        () => mutex.lock({ signal: {} as AbortSignal }),
        () => mutex.lock(42 as unknown as WaitOptions),
        () => mutex.run('nope' as unknown as () => void),
      ];
      const expected = [RangeError, RangeError, TypeError, TypeError, TypeError, TypeError];
      for (const [i, call] of calls.entries()) {
        let promise: Promise<unknown> | undefined;
        expect(() => (promise = call())).not.toThrow();
        expect(await rejectionOf(promise!)).toBeInstanceOf(expected[i]!);
      }
      const lock = mutex.tryLock();
      expect(lock).toBeDefined();
      lock!.release();
    });

    it('keeps mutual exclusion and serves every waiter under random abort/timeout interleavings', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(
            fc.record({
              hold: fc.integer({ min: 0, max: 2 }),
              cancel: fc.constantFrom('none', 'none', 'abort', 'timeout'),
              cancelAfter: fc.integer({ min: 0, max: 3 }),
            }),
            { minLength: 1, maxLength: 12 },
          ),
          async (plan) => {
            const mutex = create();
            let inside = 0;
            let violations = 0;
            const outcomes = await Promise.allSettled(
              plan.map(async ({ hold, cancel, cancelAfter }) => {
                const controller = new AbortController();
                const opts: WaitOptions =
                  cancel === 'abort'
                    ? { signal: controller.signal }
                    : cancel === 'timeout'
                      ? { timeout: cancelAfter + 1 }
                      : {};
                if (cancel === 'abort') setTimeout(() => controller.abort(), cancelAfter);
                const lock = await mutex.lock(opts);
                inside++;
                if (inside > 1) violations++;
                await sleep(hold);
                inside--;
                lock.release();
              }),
            );
            expect(violations).toBe(0);
            outcomes.forEach((outcome, i) => {
              if (outcome.status === 'rejected') expect(plan[i]!.cancel).not.toBe('none');
            });
            await eventually(() => {
              const lock = mutex.tryLock();
              lock?.release();
              return lock !== undefined;
            });
          },
        ),
        { numRuns: 15 },
      );
    });
  });
}
