/** A throw-away redis-server for the examples (no persistence, a free local port), unless REDIS_URL is set. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** REDIS_URL, or a redis-server started here (`stop` kills it); `undefined` when neither is available. */
export async function redisForExample(): Promise<{ url: string; stop(): void } | undefined> {
  if (process.env.REDIS_URL !== undefined) return { url: process.env.REDIS_URL, stop() {} };
  if (spawnSync('redis-server', ['--version']).status !== 0) return undefined;
  const port = await freePort();
  const server: ChildProcess = spawn('redis-server', [
    ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
  ]);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve();
    });
  });
  return { url: `redis://127.0.0.1:${port}`, stop: () => void server.kill('SIGKILL') };
}
