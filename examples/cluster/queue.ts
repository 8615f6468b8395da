/**
 * A work queue across processes: 2 producer processes send CPU jobs to a `RedisChannel`, 2 consumer processes take
 * them, each running its jobs on a local `WorkerPool` (all the cores of its host). Run the consumers on other hosts
 * with the same REDIS_URL and they share the work. At the end every job has exactly one result.
 *
 *   npm run build && npx tsx examples/cluster/queue.ts            # starts a local redis-server on a free port
 *   REDIS_URL=redis://127.0.0.1:6379 npx tsx examples/cluster/queue.ts
 *   WEFT_EXAMPLE_QUICK=1 npx tsx examples/cluster/queue.ts        # fewer jobs
 */
import { fork } from 'node:child_process';
import { Redis } from 'ioredis';
import { RedisChannel } from 'weftjs/redis';
import type { ConsumerReport } from './consumer.js';
import { redisForExample } from './redis-server.js';

const quick = process.env.WEFT_EXAMPLE_QUICK === '1';
const JOBS_PER_PRODUCER = quick ? 20 : 100;
const CHANNEL = 'example:thumbnails';

const redis = await redisForExample();
if (redis === undefined) {
  console.log('redis-server not found: install Redis 7 (apt-get install redis-server), or set REDIS_URL.');
  process.exit(0);
}
const client = new Redis(redis.url);
await client.del(`weft:{${CHANNEL}}`, `weft:{${CHANNEL}}:meta`, `weft:{${CHANNEL}}:dead`, 'example:results');
const start = (file: string, env: Record<string, string>) =>
  fork(new URL(file, import.meta.url), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, REDIS_URL: redis.url, CHANNEL, ...env },
  });

const started = performance.now();
const consumers = [0, 1].map((i) => start('./consumer.ts', { CONSUMER: String(i) }));
const reports = consumers.map(
  (consumer) => new Promise<ConsumerReport>((resolve) => consumer.once('message', resolve)),
);
const producers = [0, 1].map((i) =>
  start('./producer.ts', { FIRST: String(i * JOBS_PER_PRODUCER), COUNT: String(JOBS_PER_PRODUCER) }),
);
await Promise.all(producers.map((p) => new Promise((resolve) => p.once('exit', resolve))));
// No more work: every consumer finishes what was sent, then its process() resolves.
await new RedisChannel(client, CHANNEL).close();
const done = await Promise.all(reports);
const seconds = (performance.now() - started) / 1_000;

const total = 2 * JOBS_PER_PRODUCER;
const results = await client.hlen('example:results');
for (const report of done)
  console.log(`consumer ${report.consumer}: ${report.jobs} jobs on ${report.threads} threads`);
console.log(`${results} of ${total} jobs have a result (${seconds.toFixed(1)} s)`);
await client.quit();
redis.stop();
if (results !== total) process.exit(1);
