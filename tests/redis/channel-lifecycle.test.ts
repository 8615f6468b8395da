/**
 * RedisChannel's connections: a script that receives (blocking connection), sends past its capacity (wake-up
 * connection), processes until close and then quits its client exits by itself, with either client.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientKinds, hasRedis, RedisServer } from './server.js';

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
      const child = spawn(process.execPath, [fixture], {
        env: { ...process.env, WEFT_REDIS_PORT: String(server.port), WEFT_REDIS_CLIENT: kind.name },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
        child.once('exit', (c, s) => resolve([c, s])),
      );
      clearTimeout(timer);
      expect({ code, signal, output: output.trim() }).toEqual({ code: 0, signal: null, output: '6' });
    },
  );
});
