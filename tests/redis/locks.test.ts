/**
 * RedisMutex and RedisSemaphore against a real redis-server, with each client library: the rules of the in-process
 * twins (arguments, FIFO, weights, abort/timeout leaving no trace, idempotent release, run), leases and fencing
 * tokens, and the races other distributed locks got wrong. Multi-process faults are in faults.test.ts.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseLostError } from '../../src/errors.js';
import { RedisMutex, RedisSemaphore, type RedisPermit } from '../../src/redis/index.js';
import { expectPending, rejectionOf } from '../helpers.js';
import { clientKinds, hasRedis, RedisServer } from './server.js';

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const aborted = (signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

describe.skipIf(!hasRedis).each(clientKinds)('Redis locks with $name', (kind) => {
  let server: RedisServer;
  let a: never;
  let b: never;
  let nextKey = 0;
  const key = (): string => `k${nextKey++}`;
  const command = (...args: string[]): Promise<unknown> => kind.command(a, args);
  const keysOf = async (k: string): Promise<string[]> =>
    ((await command('KEYS', `weft:{${k}}:*`)) as string[]).sort();

  beforeAll(async () => {
    server = await RedisServer.start();
    a = (await kind.connect(server.port)) as never;
    b = (await kind.connect(server.port)) as never;
  });
  afterAll(async () => {
    await kind.quit(a);
    await kind.quit(b);
    await server.stop();
  });

  it('rejects bad arguments with TypeError / RangeError naming them', async () => {
    expect(() => new RedisMutex({} as never, 'k')).toThrow(
      new TypeError('RedisMutex: client must be an ioredis or node-redis client, got an object'),
    );
    expect(() => new RedisMutex(a, '')).toThrow(
      new TypeError('RedisMutex: key must be a non-empty string, got ""'),
    );
    expect(() => new RedisMutex(a, 42 as never)).toThrow(TypeError);
    expect(() => new RedisMutex(a, 'k', { lease: 50 })).toThrow(RangeError);
    expect(() => new RedisMutex(a, 'k', { lease: '1s' as never })).toThrow(TypeError);
    expect(() => new RedisMutex(a, 'k', { prefix: 1 as never })).toThrow(TypeError);
    expect(() => new RedisSemaphore(a, 'k', 0)).toThrow(
      new RangeError('RedisSemaphore: permits must be a positive integer, got 0'),
    );
    const sem = new RedisSemaphore(a, key(), 2);
    await expect(sem.acquire(3)).rejects.toThrow(
      new RangeError('RedisSemaphore.acquire: weight must be at most the capacity (2), got 3'),
    );
    await expect(sem.acquire(1.5)).rejects.toThrow(RangeError);
    await expect(sem.tryAcquire(0)).rejects.toThrow(RangeError);
    await expect(sem.run(() => 1, { weight: 3 })).rejects.toThrow(RangeError);
    await expect(sem.run('x' as never)).rejects.toThrow(TypeError);
    await expect(sem.acquire(1, { timeout: -1 })).rejects.toThrow(RangeError);
    await expect(sem.acquire(1, { signal: 'x' as never })).rejects.toThrow(TypeError);
  });

  it('hands the lock over in arrival order across clients; tokens grow; only the token key stays', async () => {
    const k = key();
    const ma = new RedisMutex(a, k, { lease: 1_000 });
    const mb = new RedisMutex(b, k, { lease: 1_000 });
    const first = await ma.lock();
    const order: string[] = [];
    const w1 = mb.lock().then((p) => (order.push('b1'), p));
    await delay(10);
    const w2 = ma.lock().then((p) => (order.push('a2'), p));
    await delay(10);
    const w3 = mb.lock().then((p) => (order.push('b3'), p));
    await delay(10);
    expect(await mb.tryLock()).toBeUndefined(); // never jumps the queue
    await first.release();
    let last = first.token;
    for (const waiting of [w1, w2, w3]) {
      const permit = await waiting;
      expect(permit.token).toBeGreaterThan(last);
      last = permit.token;
      await permit.release();
    }
    expect(order).toEqual(['b1', 'a2', 'b3']);
    expect(await keysOf(k)).toEqual([`weft:{${k}}:token`]);
  });

  it('an uncontended lock and its release are one round trip each, on the user connection only', async () => {
    const mutex = new RedisMutex(a, key(), { lease: 1_000 });
    await (await mutex.lock()).release(); // loads the script
    const calls = async (): Promise<{ scripts: number; clients: number }> => {
      const info = (await kind.command(b, ['INFO', 'all'])) as string;
      const count = (name: string): number =>
        Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
      return {
        scripts: count('evalsha') + count('eval'),
        clients: Number(/connected_clients:(\d+)/.exec(info)![1]),
      };
    };
    const before = await calls();
    const permit = await mutex.lock();
    await permit.release();
    const after = await calls();
    expect(after.scripts - before.scripts).toBe(2);
    expect(after.clients).toBeLessThanOrEqual(before.clients); // no connection opened (one may close)
  });

  it('serves weighted waiters strictly FIFO: a heavy head is not overtaken', async () => {
    const k = key();
    const sem = new RedisSemaphore(a, k, 3, { lease: 1_000 });
    const held = await sem.acquire(2);
    const heavy = sem.acquire(3);
    const light = sem.acquire(1);
    await delay(20);
    await expectPending(light); // one permit is free, but the heavy head waits first
    expect(await sem.tryAcquire(1)).toBeUndefined();
    await held.release();
    const h = await heavy;
    await expectPending(light);
    await h.release();
    await (await light).release();
    expect(await keysOf(k)).toEqual([`weft:{${k}}:token`]);
  });

  it('an aborted or timed-out waiter leaves no trace in Redis, and nobody behind it is blocked', async () => {
    const k = key();
    const mutex = new RedisMutex(a, k, { lease: 1_000 });
    const held = await mutex.lock();
    const controller = new AbortController();
    const aborting = mutex.lock({ signal: controller.signal });
    const timing = mutex.lock({ timeout: 30 });
    const behind = mutex.lock();
    await delay(10);
    controller.abort();
    expect(await rejectionOf(aborting)).toMatchObject({ name: 'AbortError' });
    expect(await rejectionOf(timing)).toMatchObject({ name: 'TimeoutError' });
    expect(await command('ZCARD', `weft:{${k}}:queue`)).toBe(1);
    await held.release();
    await (await behind).release();
    expect(await keysOf(k)).toEqual([`weft:{${k}}:token`]);
  });

  it('an already-aborted signal rejects at once, even when the lock is free; timeout 0 only takes a free lock', async () => {
    const k = key();
    const mutex = new RedisMutex(a, k);
    const reason = new Error('stop');
    expect(await rejectionOf(mutex.lock({ signal: AbortSignal.abort(reason) }))).toBe(reason);
    const free = await mutex.lock({ timeout: 0 });
    expect(await rejectionOf(mutex.lock({ timeout: 0 }))).toMatchObject({ name: 'TimeoutError' });
    await free.release();
    expect(await keysOf(k)).toEqual([`weft:{${k}}:token`]);
  });

  it('release is idempotent and await using releases; run releases when fn throws', async () => {
    const k = key();
    const mutex = new RedisMutex(a, k);
    const permit = await mutex.lock();
    await Promise.all([permit.release(), permit.release()]);
    {
      await using lock = await mutex.lock();
      expect(lock.token).toBeGreaterThan(permit.token);
    }
    await expect(
      mutex.run(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await mutex.run((lock) => lock.token)).toBeGreaterThan(permit.token);
    expect(await keysOf(k)).toEqual([`weft:{${k}}:token`]);
  });

  it('aborts permit.signal with LeaseLostError when the lease cannot be renewed', async () => {
    const k = key();
    const permit = await new RedisMutex(a, k, { lease: 300 }).lock();
    await command('DEL', `weft:{${k}}:holders`);
    await aborted(permit.signal);
    expect(permit.signal.reason).toBeInstanceOf(LeaseLostError);
    await permit.release();
  });

  it('race: a grant that lands as the waiter aborts does not leak the permit', async () => {
    const k = key();
    const mutex = new RedisMutex(a, k, { lease: 1_000 });
    for (let i = 0; i < 10; i++) {
      const held = await mutex.lock();
      const controller = new AbortController();
      const waiting = mutex.lock({ signal: controller.signal });
      await delay(5);
      void held.release();
      controller.abort();
      const outcome = await waiting.then(
        (p) => p,
        (error: unknown) => error,
      );
      if (!(outcome instanceof DOMException)) await (outcome as RedisPermit).release();
      const again = await new RedisMutex(b, k).tryLock();
      expect(again).toBeDefined();
      await again!.release();
    }
    expect(await keysOf(k)).toEqual([`weft:{${k}}:token`]);
  });

  it('race: a renewal racing a release does not report a lost lease', async () => {
    const k = key();
    const mutex = new RedisMutex(a, k, { lease: 150 });
    const permits: RedisPermit[] = [];
    for (let i = 0; i < 8; i++) {
      const permit = await mutex.lock();
      permits.push(permit);
      await delay(45 + i * 2); // the renewal is due after 50 ms
      await permit.release();
    }
    await delay(400);
    for (const permit of permits) expect(permit.signal.aborted).toBe(false);
  });

  it('race: an expired holder cannot renew itself back to life', async () => {
    const k = key();
    const permit = await new RedisMutex(a, k, { lease: 200 }).lock();
    // Holds back every write (our renewals) until the lease has ended in Redis.
    await kind.command(b, ['CLIENT', 'PAUSE', '400', 'WRITE']);
    await aborted(permit.signal);
    await delay(500);
    expect(await command('ZCARD', `weft:{${k}}:holders`)).toBe(0);
    const next = await new RedisMutex(b, k).tryLock();
    expect(next!.token).toBeGreaterThan(permit.token);
    await next!.release();
    await permit.release(); // harmless
    expect(await keysOf(k)).toEqual([`weft:{${k}}:token`]);
  });

  it('property: weighted FIFO, never above capacity, with releases in any order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { minLength: 6, maxLength: 6 }),
        async (capacity, rawWeights, picks) => {
          const k = key();
          const weights = rawWeights.map((w) => 1 + (w % capacity));
          const sem = new RedisSemaphore(a, k, capacity, { lease: 2_000 });
          const gate = await sem.acquire(capacity);
          const granted: number[] = [];
          const held = new Map<number, RedisPermit>();
          let inUse = 0;
          const waits = weights.map((w, i) =>
            sem.acquire(w).then((p) => {
              granted.push(i);
              held.set(i, p);
              inUse += w;
              expect(inUse).toBeLessThanOrEqual(capacity);
            }),
          );
          await gate.release();
          for (let step = 0; granted.length < weights.length || held.size > 0; step++) {
            await delay(15);
            if (held.size === 0) continue;
            const ids = [...held.keys()];
            const id = ids[picks[step % picks.length]! % ids.length]!;
            const permit = held.get(id)!;
            held.delete(id);
            inUse -= weights[id]!;
            await permit.release();
          }
          await Promise.all(waits);
          expect(granted).toEqual(weights.map((_, i) => i));
          expect(await keysOf(k)).toEqual([`weft:{${k}}:token`]);
        },
      ),
      { numRuns: 12 },
    );
  }, 60_000);
});
