/**
 * A consumer process: takes jobs from the channel, 2 per thread at a time, and runs each on a local WorkerPool, so
 * this host's cores all work. A job is finished (and acknowledged) when its handler returns; if this process died,
 * its unfinished jobs would go to the other consumer after `visibility`.
 */
import { Redis } from 'ioredis';
import { WorkerPool } from 'weftjs/pool';
import { RedisChannel } from 'weftjs/redis';

export interface Job {
  id: number;
  size: number;
}

export interface ConsumerReport {
  consumer: number;
  jobs: number;
  threads: number;
}

const client = new Redis(process.env.REDIS_URL!);
const jobs = new RedisChannel<Job>(client, process.env.CHANNEL!, { visibility: 30_000 });
await using pool = new WorkerPool({
  worker: new URL('./start-thumbnail.mjs', import.meta.url),
  maxThreads: 2,
});
let handled = 0;
await jobs.process(
  async (job, { signal }) => {
    const digest = await pool.run<string>('thumbnail', [job.id, job.size], { signal });
    await client.hset('example:results', String(job.id), digest);
    handled++;
  },
  { concurrency: 4 },
);
process.send!({ consumer: Number(process.env.CONSUMER), jobs: handled, threads: 2 } satisfies ConsumerReport);
await client.quit();
