/**
 * RedisChannel across real processes and a real redis-server: exactly once without crashes (3 consumers x 2
 * producers), SIGKILL of a consumer mid-handler (everything finishes; duplicates only of what it was handling),
 * close drained across processes, backpressure across processes, Redis restarted under consumers, and a chaos run
 * of random kills and restarts that ends with every value finished and nothing pending. The forked processes run
 * the built package (dist/). These run once per `npm test`, on the main Node version.
 */
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisChannel } from '../../src/redis/index.js';
import { Peer } from './processes.js';
import { clientKinds, hasRedis, RedisServer } from './server.js';

const inMatrix = process.env.WEFT_NODE_MATRIX !== undefined;
const fixture = path.resolve(import.meta.dirname, '..', 'fixtures', 'redis', 'channel-process.mjs');
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const range = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
const ioredis = clientKinds[0]!;

/** How many times each value appears. */
function counts(values: number[]): Map<number, number> {
  const map = new Map<number, number>();
  for (const v of values) map.set(v, (map.get(v) ?? 0) + 1);
  return map;
}

describe.skipIf(!hasRedis || inMatrix)('RedisChannel across processes', () => {
  let server: RedisServer;
  let client: unknown;
  const peers: Peer[] = [];
  let nextName = 0;
  const name = (): string => `pch${nextName++}`;
  const start = async (kind = 'ioredis'): Promise<Peer> => {
    const peer = await Peer.start(server.port, kind, {}, fixture);
    peers.push(peer);
    return peer;
  };
  const command = (...args: string[]): Promise<unknown> => ioredis.command(client, args);
  const done = async (n: string): Promise<number[]> =>
    ((await command('LRANGE', `${n}:done`, '0', '-1')) as string[]).map(Number);
  const expectEmpty = async (n: string): Promise<void> => {
    expect(await command('XLEN', `weft:{${n}}`)).toBe(0);
    expect(((await command('XPENDING', `weft:{${n}}`, 'weft')) as unknown[])[0]).toBe(0);
  };

  beforeAll(async () => {
    server = await RedisServer.start();
    client = await ioredis.connect(server.port);
  });
  afterEach(async () => {
    for (const peer of peers) expect(peer.unhandled).toEqual([]);
    await Promise.all(peers.splice(0).map((peer) => peer.kill()));
  });
  afterAll(async () => {
    await ioredis.quit(client);
    await server.stop();
  });

  it('3 consumer processes x 2 producer processes: every value handled exactly once', async () => {
    const n = name();
    const per = 5_000;
    const consumers = await Promise.all(['ioredis', 'node-redis', 'ioredis'].map((kind) => start(kind)));
    const producers = await Promise.all(['node-redis', 'ioredis'].map((kind) => start(kind)));
    const consuming = consumers.map((c) => c.request({ op: 'consume', name: n, concurrency: 8 }));
    const produced = await Promise.all(
      producers.map((p, i) => p.request({ op: 'produce', name: n, from: i * per, count: per })),
    );
    expect(produced.every((r) => r.ok)).toBe(true);
    await new RedisChannel(client as never, n).close();
    const replies = await Promise.all(consuming);
    expect(replies.map((r) => r.ok)).toEqual([true, true, true]);
    const values = await done(n);
    expect(values).toHaveLength(2 * per);
    expect(values.sort((x, y) => x - y)).toEqual(range(0, 2 * per));
    // The work was shared.
    expect(replies.filter((r) => (r.handled as number) > 0).length).toBeGreaterThan(1);
    await expectEmpty(n);
  });

  it('SIGKILL of a consumer mid-handler: everything finishes, duplicates only of what it was handling', async () => {
    const n = name();
    const victim = await start();
    const survivor = await start('node-redis');
    void victim.request({ op: 'consume', name: n, concurrency: 4, visibility: 500, work: 20, report: true });
    const surviving = survivor.request({ op: 'consume', name: n, concurrency: 4, visibility: 500, work: 20 });
    const channel = new RedisChannel<number>(client as never, n);
    await Promise.all(range(0, 300).map((v) => channel.send(v)));
    while (victim.events.filter((e) => e.event === 'start').length < 40) await delay(5);
    await victim.kill();
    const startedByVictim = new Set(
      victim.events.filter((e) => e.event === 'start').map((e) => e.value as number),
    );
    await channel.close();
    expect((await surviving).ok).toBe(true);
    const seen = counts(await done(n));
    expect([...seen.keys()].sort((x, y) => x - y)).toEqual(range(0, 300));
    const duplicates = [...seen].filter(([, c]) => c > 1).map(([v]) => v);
    for (const v of duplicates) expect(startedByVictim.has(v)).toBe(true);
    expect(duplicates.length).toBeLessThanOrEqual(8);
    await expectEmpty(n);
  });

  it('close drains across processes: what was sent before it is finished, then every consumer ends', async () => {
    const n = name();
    const consumers = await Promise.all([start(), start('node-redis')]);
    const producer = await start();
    const consuming = consumers.map((c) => c.request({ op: 'consume', name: n, concurrency: 2, work: 1 }));
    expect((await producer.request({ op: 'produce', name: n, from: 0, count: 400 })).ok).toBe(true);
    expect((await producer.request({ op: 'close', name: n })).ok).toBe(true);
    const late = await producer.request({ op: 'produce', name: n, from: 1_000, count: 1 });
    expect(late.error).toMatchObject({ name: 'ChannelClosedError' });
    expect((await Promise.all(consuming)).map((r) => r.ok)).toEqual([true, true]);
    expect((await done(n)).sort((x, y) => x - y)).toEqual(range(0, 400));
    await expectEmpty(n);
  });

  it('backpressure across processes: never more than `capacity` values unfinished', async () => {
    const n = name();
    const consumer = await start();
    const producer = await start('node-redis');
    const consuming = consumer.request({ op: 'consume', name: n, concurrency: 3, work: 2, probe: true });
    expect(
      (await producer.request({ op: 'produce', name: n, from: 0, count: 150, capacity: 5, chunk: 50 })).ok,
    ).toBe(true);
    await new RedisChannel(client as never, n).close();
    const reply = await consuming;
    expect(reply.most).toBeGreaterThan(0);
    expect(reply.most).toBeLessThanOrEqual(5);
    expect((await done(n)).sort((x, y) => x - y)).toEqual(range(0, 150));
  });

  it('chaos: consumers killed and restarted at random; every value finishes and nothing stays pending', async () => {
    const n = name();
    const total = 3_000;
    let seed = 7;
    const random = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const consume = { op: 'consume', name: n, concurrency: 4, visibility: 300, work: 1 };
    const live: Peer[] = [];
    const spawnConsumer = async (): Promise<void> => {
      const peer = await start(random() < 0.5 ? 'ioredis' : 'node-redis');
      void peer.request(consume);
      live.push(peer);
    };
    for (let i = 0; i < 3; i++) await spawnConsumer();
    const producer = await start();
    const producing = producer.request({ op: 'produce', name: n, from: 0, count: total, chunk: 100 });
    let kills = 0;
    while (kills < 6) {
      await delay(100 + random() * 200);
      const victim = live.splice(Math.floor(random() * live.length), 1)[0]!;
      await victim.kill();
      kills++;
      await spawnConsumer();
    }
    expect((await producing).ok).toBe(true);
    await new RedisChannel(client as never, n).close();
    const channel = new RedisChannel<number>(client as never, n, { visibility: 300 });
    const extra: number[] = [];
    await channel.process((v) => void extra.push(v), { concurrency: 4 });
    const seen = counts([...(await done(n)), ...extra]);
    expect([...seen.keys()].sort((x, y) => x - y)).toEqual(range(0, total));
    await expectEmpty(n);
  });

  it.each(clientKinds)(
    'Redis restarted under a $name consumer: it resumes and finishes what is sent after',
    async (kind) => {
      const own = await RedisServer.start();
      const c = await kind.connect(own.port);
      const n = name();
      const channel = new RedisChannel<number>(c as never, n, { visibility: 300 });
      const seen: number[] = [];
      const consuming = channel.process((v) => void seen.push(v), { concurrency: 2 });
      await Promise.all(range(0, 20).map((v) => channel.send(v)));
      while (seen.length < 20) await delay(10);
      await own.restart();
      await Promise.all(range(20, 20).map((v) => channel.send(v)));
      await channel.close();
      await consuming;
      expect(seen.sort((x, y) => x - y)).toEqual(range(0, 40));
      await kind.quit(c);
      await own.stop();
    },
  );
});
