/**
 * RedisChannel against a real redis-server, with each client library, in one process (several channels on several
 * clients stand for several processes): argument errors, codecs, FIFO sends, receive at most once with abort and
 * timeout leaving no trace, process with concurrency, retries and dead letters, redelivery after `visibility` or a
 * stopped consumer, backpressure woken through Redis, close seen by every client, finished entries deleted.
 * Crashes of real processes are in channel-processes.test.ts.
 */
import v8 from 'node:v8';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelClosedError } from '../../src/errors.js';
import { RedisChannel } from '../../src/redis/index.js';
import { expectPending, rejectionOf } from '../helpers.js';
import { clientKinds, hasRedis, RedisServer } from './server.js';

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe.skipIf(!hasRedis).each(clientKinds)('RedisChannel with $name', (kind) => {
  let server: RedisServer;
  let a: never;
  let b: never;
  let nextName = 0;
  const name = (): string => `ch${nextName++}`;
  const command = (...args: string[]): Promise<unknown> => kind.command(a, args);
  const length = async (n: string): Promise<number> => Number(await command('XLEN', `weft:{${n}}`));

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
    expect(() => new RedisChannel({} as never, 'x')).toThrow(
      new TypeError('RedisChannel: client must be an ioredis or node-redis client, got an object'),
    );
    expect(() => new RedisChannel(a, '')).toThrow(
      new TypeError('RedisChannel: name must be a non-empty string, got ""'),
    );
    expect(() => new RedisChannel(a, 'x', { capacity: 0 })).toThrow(
      new RangeError('RedisChannel: capacity must be a positive integer, got 0'),
    );
    expect(() => new RedisChannel(a, 'x', { capacity: '1' as never })).toThrow(TypeError);
    expect(() => new RedisChannel(a, 'x', { visibility: 0 })).toThrow(RangeError);
    expect(() => new RedisChannel(a, 'x', { visibility: -5 })).toThrow(RangeError);
    expect(() => new RedisChannel(a, 'x', { visibility: NaN })).toThrow(RangeError);
    expect(() => new RedisChannel(a, 'x', { maxAttempts: 1.5 })).toThrow(
      new RangeError('RedisChannel: maxAttempts must be a positive integer, got 1.5'),
    );
    expect(() => new RedisChannel(a, 'x', { group: '' })).toThrow(TypeError);
    expect(() => new RedisChannel(a, 'x', { consumer: 3 as never })).toThrow(TypeError);
    expect(() => new RedisChannel(a, 'x', { codec: { encode: String } as never })).toThrow(
      new TypeError('RedisChannel: codec.decode must be a function, got undefined'),
    );
    expect(() => new RedisChannel(a, 'x', 5 as never)).toThrow(TypeError);
    const ch = new RedisChannel<number>(a, name());
    await expect(ch.send(1, { timeout: -1 })).rejects.toThrow(RangeError);
    await expect(ch.send(1, { signal: {} as never })).rejects.toThrow(TypeError);
    await expect(ch.receive({ timeout: NaN })).rejects.toThrow(RangeError);
    await expect(ch.process('f' as never)).rejects.toThrow(
      new TypeError('RedisChannel.process: handler must be a function, got "f"'),
    );
    await expect(ch.process(() => undefined, { concurrency: 0 })).rejects.toThrow(
      new RangeError('RedisChannel.process: concurrency must be a positive integer, got 0'),
    );
  });

  it('an already-aborted signal rejects at once with its reason, even where the call could succeed', async () => {
    const n = name();
    const ch = new RedisChannel<number>(a, n);
    const reason = new Error('stop');
    await ch.send(1);
    expect(await rejectionOf(ch.send(2, { signal: AbortSignal.abort(reason) }))).toBe(reason);
    expect(await rejectionOf(ch.receive({ signal: AbortSignal.abort(reason) }))).toBe(reason);
    expect(await rejectionOf(ch.process(() => undefined, { signal: AbortSignal.abort(reason) }))).toBe(
      reason,
    );
    expect(await length(n)).toBe(1);
    expect(await ch.receive()).toBe(1);
  });

  it('JSON by default: a value JSON cannot carry is a TypeError at send, nothing written', async () => {
    const n = name();
    const ch = new RedisChannel<unknown>(a, n);
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    for (const bad of [undefined, () => 1, 10n, cycle, Symbol('s')]) {
      const error = await rejectionOf(ch.send(bad));
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/^RedisChannel\.send: value .*JSON/);
    }
    expect(await length(n)).toBe(0);
    const value = { s: 'é ✓', n: [1, 2.5, null], nested: { t: true } };
    await ch.send(value);
    expect(await ch.receive()).toEqual(value);
  });

  it('a codec carries what JSON cannot (v8.serialize: bytes; or text)', async () => {
    const n = name();
    const ch = new RedisChannel<unknown>(a, n, {
      codec: { encode: (v) => v8.serialize(v), decode: (bytes) => v8.deserialize(bytes) as unknown },
    });
    const value = new Map<string, unknown>([
      ['big', 10n ** 30n],
      ['when', new Date(0)],
      ['bytes', new Uint8Array([0, 255, 128])],
    ]);
    await ch.send(value);
    expect(await ch.receive()).toEqual(value);
    const upper = new RedisChannel<string>(b, n, {
      codec: { encode: (v) => v.toUpperCase(), decode: (t) => Buffer.from(t).toString() },
    });
    await upper.send('abc');
    expect(await upper.receive()).toBe('ABC');
    const refusing = new RedisChannel<number>(a, n, {
      codec: {
        encode: () => {
          throw new TypeError('no');
        },
        decode: () => 0,
      },
    });
    await expect(refusing.send(1)).rejects.toThrow('no');
    expect(await length(n)).toBe(0);
  });

  it('sends from one client arrive in order; receive takes each value once, across clients', async () => {
    const n = name();
    const tx = new RedisChannel<number>(a, n);
    const rx1 = new RedisChannel<number>(a, n);
    const rx2 = new RedisChannel<number>(b, n);
    await Promise.all(range(200).map((i) => tx.send(i)));
    const got: number[] = [];
    await Promise.all(
      [rx1, rx2, rx1, rx2].map(async (rx) => {
        for (let i = 0; i < 50; i++) got.push(await rx.receive());
      }),
    );
    expect(got.slice().sort((x, y) => x - y)).toEqual(range(200));
    // One receiver sees the values in the order they were sent.
    await Promise.all(range(20).map((i) => tx.send(i)));
    const ordered: number[] = [];
    for (let i = 0; i < 20; i++) ordered.push(await rx1.receive());
    expect(ordered).toEqual(range(20));
    expect(await length(n)).toBe(0);
  });

  it('a waiting receive is woken by a send from another client; abort and timeout leave no trace', async () => {
    const n = name();
    const rx = new RedisChannel<number>(a, n);
    const tx = new RedisChannel<number>(b, n);
    const controller = new AbortController();
    const aborted = rejectionOf(rx.receive({ signal: controller.signal }));
    const timedOut = rejectionOf(rx.receive({ timeout: 30 }));
    const waiting = rx.receive();
    await delay(50);
    controller.abort();
    expect(await aborted).toMatchObject({ name: 'AbortError' });
    expect(await timedOut).toMatchObject({ name: 'TimeoutError' });
    await expectPending(waiting);
    await tx.send(7);
    expect(await waiting).toBe(7);
    await tx.send(8);
    expect(await rx.receive()).toBe(8);
  });

  it('process: concurrency is respected, every value handled once, the stream ends empty', async () => {
    const n = name();
    const ch = new RedisChannel<number>(a, n);
    const other = new RedisChannel<number>(b, n);
    const seen: number[] = [];
    let running = 0;
    let most = 0;
    const handler = async (v: number): Promise<void> => {
      running++;
      most = Math.max(most, running);
      await delay(Math.random() * 3);
      seen.push(v);
      running--;
    };
    const consumers = [ch.process(handler, { concurrency: 3 }), other.process(handler, { concurrency: 2 })];
    await Promise.all(range(300).map((i) => ch.send(i)));
    await ch.close();
    await Promise.all(consumers);
    expect(most).toBeLessThanOrEqual(5);
    expect(seen.slice().sort((x, y) => x - y)).toEqual(range(300));
    expect(await length(n)).toBe(0);
    expect(await command('XPENDING', `weft:{${n}}`, 'weft')).toEqual([0, null, null, null]);
  });

  it('a throwing handler is retried with ctx.attempt, then dead-lettered with its message', async () => {
    const n = name();
    const ch = new RedisChannel<string>(a, n, { maxAttempts: 3 });
    const attempts: [string, number][] = [];
    const done = ch.process(
      (v, ctx) => {
        attempts.push([v, ctx.attempt]);
        if (v === 'bad' || (v === 'flaky' && ctx.attempt < 2)) throw new Error(`failed ${v}`);
      },
      { concurrency: 2 },
    );
    await ch.send('bad');
    await ch.send('flaky');
    await ch.send('good');
    await ch.close();
    await done;
    expect(attempts.filter(([v]) => v === 'bad').map(([, at]) => at)).toEqual([1, 2, 3]);
    expect(attempts.filter(([v]) => v === 'flaky').map(([, at]) => at)).toEqual([1, 2]);
    expect(attempts.filter(([v]) => v === 'good').map(([, at]) => at)).toEqual([1]);
    const dead = (await command('XRANGE', `weft:{${n}}:dead`, '-', '+')) as [string, string[]][];
    expect(dead).toHaveLength(1);
    const fields = dead[0]![1];
    expect(fields.slice(0, 4)).toEqual(['v', '"bad"', 'error', 'failed bad']);
    expect(fields.slice(6)).toEqual(['attempts', '3']);
    expect(await length(n)).toBe(0);
  });

  it('a handler outliving visibility: the value goes to a live consumer (attempt 2); nothing lost', async () => {
    const n = name();
    const slow = new RedisChannel<number>(a, n, { visibility: 200 });
    const fast = new RedisChannel<number>(b, n, { visibility: 200 });
    const stopSlow = new AbortController();
    const calls: string[] = [];
    let release: () => void = () => undefined;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const slowRun = slow.process(
      async (v, ctx) => {
        calls.push(`slow ${v} ${ctx.attempt}`);
        await stuck;
      },
      { signal: stopSlow.signal },
    );
    await slow.send(1);
    while (calls.length === 0) await delay(10);
    const fastRun = fast.process((v, ctx) => void calls.push(`fast ${v} ${ctx.attempt}`));
    while (calls.length < 2) await delay(10);
    expect(calls).toEqual(['slow 1 1', 'fast 1 2']);
    release();
    stopSlow.abort();
    await expect(slowRun).rejects.toMatchObject({ name: 'AbortError' });
    await slow.close();
    await fastRun;
    expect(await length(n)).toBe(0);
  });

  it('stopping a consumer aborts ctx.signal and hands its values back at once', async () => {
    const n = name();
    const first = new RedisChannel<number>(a, n, { visibility: 60_000 });
    const second = new RedisChannel<number>(b, n, { visibility: 60_000 });
    const stop = new AbortController();
    const seen: string[] = [];
    const signals: AbortSignal[] = [];
    const firstRun = first.process(
      (v, ctx) => {
        seen.push(`first ${v}`);
        signals.push(ctx.signal);
        return new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)),
        );
      },
      { concurrency: 2, signal: stop.signal },
    );
    await first.send(1);
    await first.send(2);
    while (seen.length < 2) await delay(10);
    const reason = new Error('deploy');
    stop.abort(reason);
    expect(await rejectionOf(firstRun)).toBe(reason);
    expect(signals.every((s) => s.aborted && s.reason === reason)).toBe(true);
    const secondRun = second.process((v, ctx) => void seen.push(`second ${v} ${ctx.attempt}`));
    await second.close();
    await secondRun;
    // Handed back well before the 60 s visibility.
    expect(seen.slice(2).sort()).toEqual(['second 1 2', 'second 2 2']);
  });

  it('capacity: send waits while that many values are unfinished, and is woken by a finish elsewhere', async () => {
    const n = name();
    const tx = new RedisChannel<number>(a, n, { capacity: 2 });
    const rx = new RedisChannel<number>(b, n);
    await tx.send(0);
    await tx.send(1);
    const third = tx.send(2);
    await expectPending(third);
    await delay(50);
    await expectPending(third);
    expect(await length(n)).toBe(2);
    // A send that times out while full leaves nothing behind.
    expect(await rejectionOf(tx.send(99, { timeout: 20 }))).toMatchObject({ name: 'TimeoutError' });
    expect(await rx.receive()).toBe(0);
    await third;
    expect(await length(n)).toBe(2);
    const seen: number[] = [];
    let inside = 0;
    let most = 0;
    const consumer = rx.process(
      async (v) => {
        inside++;
        most = Math.max(most, await length(n));
        await delay(1);
        seen.push(v);
        inside--;
      },
      { concurrency: 2 },
    );
    await Promise.all(range(30).map((i) => tx.send(100 + i)));
    await tx.close();
    await consumer;
    expect(most).toBeLessThanOrEqual(2);
    expect(seen.slice().sort((x, y) => x - y)).toEqual([1, 2, ...range(30).map((i) => 100 + i)]);
    expect(inside).toBe(0);
  });

  it('close is seen by every client: waiting senders and receivers reject, consumers drain then end', async () => {
    const n = name();
    const tx = new RedisChannel<number>(a, n, { capacity: 1 });
    const other = new RedisChannel<number>(b, n);
    await tx.send(1);
    const blocked = rejectionOf(tx.send(2));
    const seen: number[] = [];
    await other.close();
    expect(await blocked).toBeInstanceOf(ChannelClosedError);
    expect(await rejectionOf(tx.send(3))).toBeInstanceOf(ChannelClosedError);
    // What was sent before the close is still delivered.
    await other.process((v) => void seen.push(v));
    expect(seen).toEqual([1]);
    expect(await rejectionOf(other.receive())).toBeInstanceOf(ChannelClosedError);
    const iterated: number[] = [];
    for await (const v of tx) iterated.push(v);
    expect(iterated).toEqual([]);
    await other.close();
  });

  it('a key of another type: send, receive and process reject with the Redis error as cause, none unhandled', async () => {
    const n = name();
    await command('SET', `weft:{${n}}`, 'not a stream');
    const ch = new RedisChannel<number>(a, n);
    for (const [call, where] of [
      [() => ch.send(1), 'send'],
      [() => ch.receive(), 'receive'],
      [() => ch.process(() => undefined), 'process'],
    ] as const) {
      const error = (await rejectionOf(call())) as Error;
      expect(error.message).toBe(`RedisChannel.${where}: Redis command failed`);
      expect(error.cause).toBeInstanceOf(Error);
    }
  });

  it('for await receives until close', async () => {
    const n = name();
    const ch = new RedisChannel<number>(a, n);
    await Promise.all(range(5).map((i) => ch.send(i)));
    const closing = delay(30).then(() => new RedisChannel<number>(b, n).close());
    const got: number[] = [];
    for await (const v of ch) got.push(v);
    await closing;
    expect(got).toEqual(range(5));
  });

  it('property: any mix of sends, receives and process handles each value once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 10 }),
        fc.integer({ min: 1, max: 4 }),
        async (values, received, concurrency) => {
          const n = name();
          const tx = new RedisChannel<number>(a, n);
          const rx = new RedisChannel<number>(b, n);
          await Promise.all(values.map((v) => tx.send(v)));
          const got: number[] = [];
          for (let i = 0; i < Math.min(received, values.length); i++) got.push(await rx.receive());
          const done = rx.process((v) => void got.push(v), { concurrency });
          await tx.close();
          await done;
          expect(got.sort((x, y) => x - y)).toEqual(values.slice().sort((x, y) => x - y));
          expect(await length(n)).toBe(0);
        },
      ),
      { numRuns: 25 },
    );
  });
});
