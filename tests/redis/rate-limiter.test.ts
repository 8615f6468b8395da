/**
 * RedisRateLimiter against a real redis-server, with each client library: the RateLimiter guarantee summed over
 * clients and processes (checked on the admission log Redis keeps, in Redis time), FIFO, no trace after abort, no
 * key left once idle, and processes whose clocks are 5 s apart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRateLimiter } from '../../src/redis/index.js';
import { expectPending, rejectionOf } from '../helpers.js';
import { Peer } from './processes.js';
import { clientKinds, hasRedis, RedisServer } from './server.js';

const inMatrix = process.env.WEFT_NODE_MATRIX !== undefined;
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!hasRedis).each(clientKinds)('RedisRateLimiter with $name', (kind) => {
  let server: RedisServer;
  let clients: never[];
  let nextKey = 0;
  const key = (): string => `r${nextKey++}`;
  const command = (...args: string[]): Promise<unknown> => kind.command(clients[0], args);

  /** Collects every admission (time in Redis ms, weight) of limiter `k` while `work` runs. */
  async function admissions(k: string, work: Promise<unknown>): Promise<{ at: number; weight: number }[]> {
    const seen = new Map<string, number>();
    let done = false;
    const read = async (): Promise<void> => {
      const log = (await command('ZRANGE', `weft:{${k}}:rate:log`, '0', '-1', 'WITHSCORES')) as string[];
      for (let i = 0; i < log.length; i += 2) seen.set(log[i]!, Number(log[i + 1]));
    };
    const watching = (async () => {
      while (!done) {
        await read();
        await delay(20);
      }
    })();
    await work;
    done = true;
    await watching;
    await read(); // the last admissions are still in the window
    return [...seen].map(([member, at]) => ({ at, weight: Number(member.split(' ')[0]) }));
  }

  /** The most weight admitted in any window `(t - interval, t]`. */
  function busiestWindow(log: { at: number; weight: number }[], interval: number): number {
    let most = 0;
    for (const end of log) {
      let sum = 0;
      for (const entry of log) if (entry.at > end.at - interval && entry.at <= end.at) sum += entry.weight;
      most = Math.max(most, sum);
    }
    return most;
  }

  beforeAll(async () => {
    server = await RedisServer.start();
    clients = (await Promise.all([1, 2, 3].map(() => kind.connect(server.port)))) as never[];
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => kind.quit(c)));
    await server.stop();
  });

  it('rejects bad arguments with TypeError / RangeError naming them', async () => {
    expect(() => new RedisRateLimiter(clients[0]!, 'k', undefined as never)).toThrow(TypeError);
    expect(() => new RedisRateLimiter(clients[0]!, 'k', { limit: 0, interval: 1 })).toThrow(
      new RangeError('RedisRateLimiter: limit must be a positive integer, got 0'),
    );
    expect(() => new RedisRateLimiter(clients[0]!, 'k', { limit: 1, interval: 0 })).toThrow(RangeError);
    expect(() => new RedisRateLimiter(clients[0]!, '', { limit: 1, interval: 1 })).toThrow(TypeError);
    expect(() => new RedisRateLimiter(null as never, 'k', { limit: 1, interval: 1 })).toThrow(
      new TypeError('RedisRateLimiter: client must be an ioredis or node-redis client, got null'),
    );
    const limiter = new RedisRateLimiter(clients[0]!, key(), { limit: 2, interval: 100 });
    await expect(limiter.take(3)).rejects.toThrow(
      new RangeError('RedisRateLimiter.take: weight must be at most the limit (2), got 3'),
    );
    await expect(limiter.tryTake(0)).rejects.toThrow(RangeError);
    await expect(limiter.run(() => 1, { weight: -1 })).rejects.toThrow(RangeError);
  });

  it('admits a burst of limit, then follows the window; FIFO; tryTake never jumps the queue', async () => {
    const k = key();
    const limiter = new RedisRateLimiter(clients[0]!, k, { limit: 3, interval: 200 });
    const started = performance.now();
    await limiter.take(2);
    const order: number[] = [];
    const heavy = limiter.take(2).then(() => order.push(1));
    const light = limiter.take(1).then(() => order.push(2));
    await delay(20);
    expect(await limiter.tryTake(1)).toBe(false); // one unit is free, but two callers wait
    await expectPending(light);
    await Promise.all([heavy, light]);
    expect(order).toEqual([1, 2]);
    expect(performance.now() - started).toBeGreaterThanOrEqual(180);
    expect(await limiter.run(() => 'ran', { weight: 1, timeout: 1_000 })).toBe('ran');
  });

  it('an aborted or timed-out take leaves no trace; an idle limiter leaves no key', async () => {
    const k = key();
    const limiter = new RedisRateLimiter(clients[0]!, k, { limit: 1, interval: 150 });
    await limiter.take();
    const controller = new AbortController();
    const aborting = limiter.take(1, { signal: controller.signal });
    const timing = limiter.take(1, { timeout: 20 });
    await delay(5);
    controller.abort();
    expect(await rejectionOf(aborting)).toMatchObject({ name: 'AbortError' });
    expect(await rejectionOf(timing)).toMatchObject({ name: 'TimeoutError' });
    expect(await command('EXISTS', `weft:{${k}}:rate:queue`)).toBe(0);
    expect(await limiter.tryTake()).toBe(false);
    await limiter.take(1, { timeout: 1_000 });
    await delay(200);
    expect(await command('KEYS', `weft:{${k}}:*`)).toEqual([]);
  });

  it('never admits more than the limit in any sliding window, summed over clients, and reaches the limit', async () => {
    const k = key();
    const limit = 5;
    const interval = 250;
    const limiters = clients.map((c) => new RedisRateLimiter(c, k, { limit, interval }));
    const started = performance.now();
    const work = Promise.all(
      limiters.map(async (limiter, i) => {
        for (let n = 0; n < 8; n++) await limiter.take(1 + ((n + i) % 2));
      }),
    );
    const log = await admissions(k, work);
    const elapsed = performance.now() - started;
    const total = log.reduce((sum, e) => sum + e.weight, 0);
    expect(total).toBe(36);
    expect(busiestWindow(log, interval)).toBeLessThanOrEqual(limit);
    // 36 units at 5 per 250 ms: the first burst is free, then about 6.2 windows.
    expect(elapsed).toBeLessThan(((total - limit) / limit) * interval * 2 + 500);
  });

  it.skipIf(inMatrix)('processes with clocks 5 s apart share the same windows', async () => {
    const k = key();
    const peers = await Promise.all(
      ['-5000', '5000'].map((skew) => Peer.start(server.port, kind.name, { WEFT_CLOCK_SKEW: skew })),
    );
    try {
      const local = new RedisRateLimiter(clients[0]!, k, { limit: 4, interval: 200 });
      const work = Promise.all([
        ...peers.map((peer) => peer.request({ op: 'take', key: k, limit: 4, interval: 200, count: 6 })),
        (async () => {
          for (let n = 0; n < 6; n++) await local.take();
        })(),
      ]);
      const log = await admissions(k, work);
      expect(log.length).toBe(18);
      expect(busiestWindow(log, 200)).toBeLessThanOrEqual(4);
      for (const peer of peers) expect(peer.unhandled).toEqual([]);
    } finally {
      await Promise.all(peers.map((peer) => peer.kill()));
    }
  });
});
