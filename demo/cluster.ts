/**
 * The demo's cross-process row: the CPU job cut into chunks, sent through a `RedisChannel` on a private
 * redis-server (started here on a free port, never a system one) and run by 2 consumer processes. Process and
 * Redis start-up are not counted, as the pool's start-up is not.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { RedisChannel } from 'weftjs/redis';

/** What the row needs from the demo. */
export interface ClusterRun {
  cpuUnits: number;
  rounds: number;
  chunks: number;
  consumers: number;
  /** Called with the units finished so far. */
  advance(done: number): void;
}

/** True when `redis-server` can be started. */
export const hasRedisServer = (): boolean => spawnSync('redis-server', ['--version']).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function startRedis(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn('redis-server', [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
  ]);
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) resolve();
    });
  });
  return { port, child };
}

/**
 * Starts Redis and the consumer processes, then returns `run` (the measured part: send every chunk, wait until all
 * are finished) and `stop` (close the channel, wait for the consumers to end, stop Redis).
 */
export async function startCluster(
  job: ClusterRun,
): Promise<{ run(): Promise<void>; stop(): Promise<void> }> {
  const redis = await startRedis();
  const url = `redis://127.0.0.1:${redis.port}`;
  const client = new Redis(url);
  const channel = new RedisChannel<{ first: number; count: number; rounds: number }>(client, 'demo-cpu');
  let done = 0;
  let target = 0;
  let finished: (() => void) | undefined;
  const consumers = await Promise.all(
    Array.from({ length: job.consumers }, async () => {
      const child = fork(new URL('./channel-consumer.mjs', import.meta.url), [], {
        env: { ...process.env, REDIS_URL: url, WEFT_DEMO_CHANNEL: 'demo-cpu' },
      });
      child.on('message', (message: { done?: number }) => {
        if (message.done === undefined) return;
        done += message.done;
        job.advance(done);
        if (done >= target) finished?.();
      });
      await new Promise((resolve) => child.once('message', resolve));
      return child;
    }),
  );
  /** Sends `units` in `chunks` jobs and resolves once all are finished. */
  const spread = async (units: number, chunks: number): Promise<void> => {
    done = 0;
    target = units;
    const all = new Promise<void>((resolve) => (finished = resolve));
    const per = Math.ceil(units / chunks);
    const sends: Promise<void>[] = [];
    for (let first = 0; first < units; first += per) {
      sends.push(channel.send({ first, count: Math.min(per, units - first), rounds: job.rounds }));
    }
    await Promise.all(sends);
    await all;
  };
  // Warm-up, not measured (as the pool's): every consumer connected and its hashing code compiled.
  await spread(job.consumers * 40, job.consumers * 4);
  return {
    run: () => spread(job.cpuUnits, job.chunks),
    async stop() {
      await channel.close().catch(() => undefined);
      await Promise.all(
        consumers.map(
          (child) =>
            new Promise((resolve) => {
              if (child.exitCode !== null) return resolve(undefined);
              const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
              child.once('exit', () => resolve(clearTimeout(timer)));
            }),
        ),
      );
      client.disconnect();
      redis.child.kill('SIGKILL');
    },
  };
}
