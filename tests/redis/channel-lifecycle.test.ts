/**
 * RedisChannel's connections: a script that receives (blocking connection), sends past its capacity (wake-up
 * connection), processes until close and then quits its client exits by itself, with either client.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientKinds, hasRedis, RedisServer, runClientScript } from './server.js';

const fixture = path.resolve(import.meta.dirname, '..', 'fixtures', 'redis', 'channel-exits.mjs');

describe.skipIf(!hasRedis)('RedisChannel lifecycle', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  it.each(clientKinds)(
    'a script that used a channel and quit its $name client exits by itself',
    async (kind) => {
      expect(await runClientScript(fixture, server.port, kind, 15_000)).toEqual({
        code: 0,
        signal: null,
        output: '6',
      });
    },
  );
});
