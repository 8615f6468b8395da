/**
 * Faults with real processes and a real redis-server: a holder killed, a holder paused past its lease, a waiter paused
 * or killed while it is granted, Redis restarted under waiting clients, SCRIPT FLUSH, and a chaos run of 4 processes.
 * Each test checks that nothing is lost or held twice. The forked processes run the built package (dist/). These
 * run once per `npm test`, on the main Node version (the Node 22/24 re-runs skip them).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LeaseLostError } from '../../src/errors.js';
import { RedisMutex, type RedisPermit } from '../../src/redis/index.js';
import { Peer } from './processes.js';
import { clientKinds, hasRedis, RedisServer } from './server.js';

const inMatrix = process.env.WEFT_NODE_MATRIX !== undefined;
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!hasRedis || inMatrix).each(clientKinds)('faults with $name', (kind) => {
  let server: RedisServer;
  let client: unknown;
  const peers: Peer[] = [];
  const start = async (env: Record<string, string> = {}): Promise<Peer> => {
    const peer = await Peer.start(server.port, kind.name, env);
    peers.push(peer);
    return peer;
  };
  const command = (...args: string[]): Promise<unknown> => kind.command(client, args);

  beforeAll(async () => {
    server = await RedisServer.start();
    client = await kind.connect(server.port);
  });
  afterEach(async () => {
    for (const peer of peers) expect(peer.unhandled).toEqual([]);
    await Promise.all(peers.splice(0).map((peer) => peer.kill()));
  });
  afterAll(async () => {
    await kind.quit(client);
    await server.stop();
  });

  it('SIGKILL of a holder: its lock comes back within its lease and the next waiter gets it', async () => {
    const holder = await start();
    const held = await holder.request({ op: 'lock', key: 'kill', lease: 400 });
    expect(held.ok).toBe(true);
    const mutex = new RedisMutex(client as never, 'kill', { lease: 400 });
    const waiting = mutex.lock();
    await delay(50);
    const killedAt = performance.now();
    await holder.kill();
    const lock = await waiting;
    expect(performance.now() - killedAt).toBeLessThan(3_000);
    expect(lock.token).toBeGreaterThan(held.token!);
    await lock.release();
  });

  it('SIGSTOP of a holder past its lease, then SIGCONT: its signal aborts, its late release is harmless', async () => {
    const holder = await start();
    const held = await holder.request({ op: 'lock', key: 'stop', lease: 300 });
    const mutex = new RedisMutex(client as never, 'stop', { lease: 300 });
    const waiting = mutex.lock();
    await delay(30);
    holder.signal('SIGSTOP');
    const lock = await waiting;
    expect(lock.token).toBeGreaterThan(held.token!);
    holder.signal('SIGCONT');
    const lost = await holder.until((e) => e.event === 'lost');
    expect(lost.reason).toMatchObject({ name: 'LeaseLostError' });
    expect((await holder.request({ op: 'release', permit: held.n })).ok).toBe(true);
    // The late release did not free the new grant: it is still held, and renewed.
    await delay(400);
    expect(lock.signal.aborted).toBe(false);
    expect(await new RedisMutex(client as never, 'stop').tryLock()).toBeUndefined();
    await lock.release();
  });

  it('a waiter paused while it is granted never gets an expired permit; the queue goes on without it', async () => {
    const mutex = new RedisMutex(client as never, 'paused-waiter', { lease: 300 });
    const first = await mutex.lock();
    const waiter = await start();
    const granted = waiter.request({ op: 'lock', key: 'paused-waiter', lease: 300 });
    await delay(100);
    const behind = mutex.lock();
    await delay(30);
    waiter.signal('SIGSTOP');
    await first.release(); // granted to the paused waiter, whose lease then runs out
    const second = await behind;
    waiter.signal('SIGCONT');
    await delay(200);
    let returned = false;
    void granted.then(() => (returned = true));
    await delay(50);
    expect(returned).toBe(false); // it queued again, behind the holder
    await second.release();
    const late = await granted;
    expect(late.token).toBeGreaterThan(second.token);
    expect(waiter.events.filter((e) => e.event === 'lost')).toEqual([]);
  });

  it('a dead waiter at the head does not block the queue', async () => {
    const mutex = new RedisMutex(client as never, 'dead-waiter', { lease: 300 });
    const first = await mutex.lock();
    const waiter = await start();
    void waiter.request({ op: 'lock', key: 'dead-waiter', lease: 300 });
    await delay(100);
    const behind = mutex.lock();
    await delay(30);
    await waiter.kill();
    await first.release();
    const lock = await behind;
    expect(lock.token).toBeGreaterThan(first.token);
    await lock.release();
  });

  it('Redis restarted under a holder and waiting clients: the holder is told, the waiters are served', async () => {
    const mutex = new RedisMutex(client as never, 'restart', { lease: 600 });
    const holder = await mutex.lock();
    const peer = await start();
    const waiting = [peer.request({ op: 'lock', key: 'restart', lease: 600 }), mutex.lock()];
    await delay(100);
    await server.restart();
    await new Promise<void>((resolve) => holder.signal.addEventListener('abort', () => resolve()));
    expect(holder.signal.reason).toBeInstanceOf(LeaseLostError);
    await holder.release().catch(() => undefined);
    const [remote, local] = waiting as [Promise<{ token?: number; n: number }>, Promise<RedisPermit>];
    const first = await Promise.race([remote.then(() => 'remote'), local.then(() => 'local')]);
    // One at a time, and each token above the one granted before the restart.
    if (first === 'remote') {
      const r = await remote;
      expect(r.token).toBeGreaterThan(holder.token);
      await peer.request({ op: 'release', permit: r.n });
      expect((await local).token).toBeGreaterThan(r.token!);
      await (await local).release();
    } else {
      const l = await local;
      expect(l.token).toBeGreaterThan(holder.token);
      await l.release();
      expect((await remote).token).toBeGreaterThan(l.token);
    }
  }, 30_000);

  it('SCRIPT FLUSH: the scripts are loaded again', async () => {
    const mutex = new RedisMutex(client as never, 'flush', { lease: 1_000 });
    const lock = await mutex.lock();
    await command('SCRIPT', 'FLUSH');
    await lock.release();
    await command('SCRIPT', 'FLUSH');
    const again = await mutex.tryLock();
    expect(again).toBeDefined();
    await again!.release();
  });

  it('chaos: 4 processes, clocks up to 10 s apart, random acquire/abort/timeout/release; the keys return to idle', async () => {
    const skews = ['-5000', '0', '2500', '5000'];
    const chaos = await Promise.all(skews.map((skew) => start({ WEFT_CLOCK_SKEW: skew })));
    const results = await Promise.all(
      chaos.map((peer, i) =>
        peer.request({
          op: 'chaos',
          key: 'chaos',
          prefix: 'chaos:',
          ops: 1_000,
          parallel: 4,
          lease: 2_000,
          seed: i + 1,
        }),
      ),
    );
    for (const result of results) {
      expect(result.error).toBeUndefined();
      expect(result.stats).toMatchObject({ violations: 0, lost: 0 });
      expect(result.stats!.entered).toBeGreaterThan(50);
    }
    await Promise.all(chaos.map((peer) => peer.request({ op: 'quit' })));
    const keys = ((await command('KEYS', 'chaos:*')) as string[]).sort();
    expect(keys).toEqual([
      'chaos:check:mutex',
      'chaos:check:sem',
      'chaos:{chaos:sem}:token',
      'chaos:{chaos}:token',
    ]);
    expect(await command('GET', 'chaos:check:mutex')).toBe('0');
    expect(await command('GET', 'chaos:check:sem')).toBe('0');
  }, 60_000);
});
