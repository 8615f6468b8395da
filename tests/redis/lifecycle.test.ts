/**
 * Connections and timers: an idle process exits by itself, and when Redis goes away nothing rejects unhandled;
 * waits keep waiting until their own timeout, holders learn that their lease is lost, and calls that cannot wait
 * reject with the client's error as `cause`.
 */
import path from 'node:path';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaseLostError } from '../../src/errors.js';
import { RedisMutex } from '../../src/redis/index.js';
import { rejectionOf } from '../helpers.js';
import { clientKinds, hasRedis, RedisServer, runClientScript } from './server.js';

const fixture = path.resolve(import.meta.dirname, '..', 'fixtures', 'redis', 'exits.mjs');

describe.skipIf(!hasRedis)('lifecycle', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each(clientKinds)(
    'a script that locks, releases and quits its $name client exits by itself',
    async (kind) => {
      expect(await runClientScript(fixture, server.port, kind, 10_000)).toEqual({
        code: 0,
        signal: null,
        output: 'false',
      });
    },
  );

  it.each(clientKinds)('Redis going away under a $name client: no unhandled rejection', async (kind) => {
    const gone = await RedisServer.start();
    let client: never;
    if (kind.name === 'ioredis') {
      const io = new Redis(gone.port, '127.0.0.1', { maxRetriesPerRequest: 1 });
      io.on('error', () => undefined);
      client = io as never;
    } else {
      const node = createClient({
        socket: { port: gone.port, host: '127.0.0.1' },
        disableOfflineQueue: true,
      });
      node.on('error', () => undefined);
      client = (await node.connect()) as never;
    }
    const mutex = new RedisMutex(client, 'gone', { lease: 300 });
    const holder = await mutex.lock();
    const waiting = mutex.lock({ timeout: 600 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    await gone.stop();
    // The holder cannot renew: its signal aborts before the lease ends.
    await new Promise((resolve) => holder.signal.addEventListener('abort', resolve, { once: true }));
    expect(holder.signal.reason).toBeInstanceOf(LeaseLostError);
    // The waiter keeps waiting until its own timeout.
    expect(await rejectionOf(waiting)).toMatchObject({ name: 'TimeoutError' });
    // Calls that cannot wait reject with the client's error as cause.
    const tryError = (await rejectionOf(mutex.tryLock())) as Error;
    expect(tryError.message).toMatch(/^RedisMutex\.tryLock: /);
    expect(tryError.cause).toBeInstanceOf(Error);
    const releaseError = (await rejectionOf(holder.release())) as Error;
    expect(releaseError.cause).toBeInstanceOf(Error);
    if (kind.name === 'ioredis') (client as Redis).disconnect();
    else (client as ReturnType<typeof createClient>).destroy();
  });
});
