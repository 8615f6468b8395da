import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseLostError } from '../../src/errors.js';
import { RedisMutex, RedisSemaphore } from '../../src/redis/index.js';
import { clientKinds, hasRedis, RedisServer } from './server.js';

describe.skipIf(!hasRedis).each(clientKinds)('RedisMutex with $name', (kind) => {
  let server: RedisServer;
  let a: unknown;
  let b: unknown;
  beforeAll(async () => {
    server = await RedisServer.start();
    a = await kind.connect(server.port);
    b = await kind.connect(server.port);
  });
  afterAll(async () => {
    await kind.quit(a);
    await kind.quit(b);
    await server.stop();
  });

  it('locks, hands over in FIFO order across clients, and tokens grow', async () => {
    const ma = new RedisMutex(a as never, 'm1', { lease: 1000 });
    const mb = new RedisMutex(b as never, 'm1', { lease: 1000 });
    const first = await ma.lock();
    const order: number[] = [];
    const w1 = mb.lock().then((p) => (order.push(1), p));
    await new Promise((r) => setTimeout(r, 20));
    const w2 = ma.lock().then((p) => (order.push(2), p));
    await new Promise((r) => setTimeout(r, 20));
    await first.release();
    const p1 = await w1;
    expect(p1.token).toBeGreaterThan(first.token);
    await p1.release();
    const p2 = await w2;
    expect(p2.token).toBeGreaterThan(p1.token);
    await p2.release();
    expect(order).toEqual([1, 2]);
    expect(await kind.command(a, ['KEYS', '*'])).toEqual(['weft:{m1}:token']);
  });

  it('a semaphore admits weights in FIFO order', async () => {
    const s = new RedisSemaphore(a as never, 's1', 3, { lease: 1000 });
    const p = await s.acquire(2);
    const heavy = s.acquire(3);
    const light = s.acquire(1);
    expect(await s.tryAcquire(1)).toBeUndefined();
    await p.release();
    const h = await heavy;
    await h.release();
    await (await light).release();
  });

  it('signals LeaseLostError when the lease cannot be renewed', async () => {
    const m = new RedisMutex(a as never, 'm2', { lease: 300 });
    const p = await m.lock();
    await kind.command(b, ['DEL', 'weft:{m2}:holders']);
    await new Promise<void>((resolve) => p.signal.addEventListener('abort', () => resolve()));
    expect(p.signal.reason).toBeInstanceOf(LeaseLostError);
    await p.release();
  });
});
