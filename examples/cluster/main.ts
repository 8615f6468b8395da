/**
 * Four Node processes sharing one lock, one semaphore and one rate limit through Redis: each process runs jobs that
 * take a turn from a rate limit shared by all (so many a second in total), call a "payment API" that allows only 2
 * calls at a time across the fleet, and update a ledger in Redis with a read-modify-write under a lock. At the end
 * the ledger is exact, the API never saw more than 2 calls at once, and no second had more than the limit.
 *
 *   npm run build && npx tsx examples/cluster/main.ts            # starts a local redis-server on a free port
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/cluster/main.ts
 *   WEFT_EXAMPLE_QUICK=1 npx tsx examples/cluster/main.ts        # fewer jobs
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import type { WorkerReport } from './worker.js';

const quick = process.env.WEFT_EXAMPLE_QUICK === '1';
const processes = 4;
const jobsEach = quick ? 15 : 40;
const RATE_LIMIT = quick ? 20 : 10; // jobs a second, across all processes

/** A free port on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Starts a throw-away redis-server (no persistence) and resolves once it accepts connections. */
async function startRedis(): Promise<{ url: string; server: ChildProcess }> {
  const port = await freePort();
  const server = spawn('redis-server', [
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
    server.once('error', reject);
    server.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve();
    });
  });
  return { url: `redis://127.0.0.1:${port}`, server };
}

let url = process.env.REDIS_URL;
let server: ChildProcess | undefined;
if (url === undefined) {
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    console.log('redis-server not found: install Redis 7 (apt-get install redis-server), or set REDIS_URL.');
    process.exit(0);
  }
  ({ url, server } = await startRedis());
}

const redis = new Redis(url);
await redis.del('example:ledger', 'example:api-calls', 'example:api-peak');
const started = performance.now();
const workers = Array.from({ length: processes }, (_, i) =>
  fork(new URL('./worker.ts', import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: {
      ...process.env,
      REDIS_URL: url,
      WORKER: String(i),
      JOBS: String(jobsEach),
      RATE: String(RATE_LIMIT),
    },
  }),
);
const reports = await Promise.all(
  workers.map((worker) => new Promise<WorkerReport>((resolve) => worker.once('message', resolve))),
);
const seconds = (performance.now() - started) / 1_000;

const total = processes * jobsEach;
const ledger = Number(await redis.get('example:ledger'));
const peak = Number(await redis.get('example:api-peak'));
for (const report of reports) {
  console.log(`process ${report.worker}: ${report.jobs} jobs, last fencing token ${report.lastToken}`);
}
console.log(`ledger: ${ledger} (expected ${total}${ledger === total ? ', exact' : ', UPDATES LOST'})`);
console.log(`payment API: at most ${peak} calls at once (the semaphore allows 2)`);
console.log(
  `rate: ${total} jobs in ${seconds.toFixed(1)} s, ${(total / seconds).toFixed(1)}/s (limit ${RATE_LIMIT}/s)`,
);
await redis.quit();
server?.kill('SIGKILL');
if (ledger !== total || peak > 2) process.exit(1);
