import { describe, expectTypeOf, it } from 'vitest';
import {
  Mutex,
  RWLock,
  RateLimiter,
  Semaphore,
  limit,
  limitFunction,
  type LimitFunction,
  type LimitedFunction,
  type Permit,
} from '../../src/sync/index.js';

describe('weftjs/sync types', () => {
  it('run and the lock methods carry the result type of fn', () => {
    const sem = new Semaphore(2);
    expectTypeOf(sem.run(async () => 5)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(sem.run(() => 'x', { weight: 2, timeout: 10 })).toEqualTypeOf<Promise<string>>();
    expectTypeOf(sem.acquire()).toEqualTypeOf<Promise<Permit>>();
    expectTypeOf(sem.tryAcquire(2)).toEqualTypeOf<Permit | undefined>();
    expectTypeOf(new Mutex().run(async () => [1, 2])).toEqualTypeOf<Promise<number[]>>();
    expectTypeOf(new RWLock().runRead(() => true)).toEqualTypeOf<Promise<boolean>>();
  });

  it('RateLimiter.run carries the result type of fn; take and tryTake', () => {
    const rate = new RateLimiter({ limit: 10, interval: 1_000 });
    expectTypeOf(rate.run(async () => 5)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(rate.run(() => 'x', { weight: 2, timeout: 10 })).toEqualTypeOf<Promise<string>>();
    expectTypeOf(rate.take(2, { signal: AbortSignal.timeout(10) })).toEqualTypeOf<Promise<void>>();
    expectTypeOf(rate.tryTake()).toEqualTypeOf<boolean>();
    expectTypeOf(rate.limit).toEqualTypeOf<number>();
    // @ts-expect-error: the options are an object with limit and interval
    void new RateLimiter(10);
  });

  it('limit checks the arguments against fn and unwraps its promise', () => {
    const lim: LimitFunction = limit(2);
    expectTypeOf(lim(async (a: string, b: number) => a.length + b, 'x', 1)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(lim(() => 'sync')).toEqualTypeOf<Promise<string>>();
    // @ts-expect-error: the second argument must be a number
    void lim((a: string, b: number) => a + b, 'x', 'y');
    expectTypeOf(lim.map([1, 2], async (n, index) => `${n}:${index}`)).toEqualTypeOf<Promise<string[]>>();
    expectTypeOf(lim.activeCount).toEqualTypeOf<number>();
    expectTypeOf(lim.clearQueue).toEqualTypeOf<() => void>();
  });

  it('limitFunction keeps the parameters of the wrapped function', () => {
    const limited = limitFunction(async (url: string, retries: number) => ({ url, retries }), {
      concurrency: 2,
    });
    expectTypeOf(limited).toEqualTypeOf<
      LimitedFunction<[url: string, retries: number], { url: string; retries: number }>
    >();
    expectTypeOf(limited('a', 1)).toEqualTypeOf<Promise<{ url: string; retries: number }>>();
    expectTypeOf(limited.pendingCount).toEqualTypeOf<number>();
  });
});
