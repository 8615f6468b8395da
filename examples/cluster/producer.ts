/** A producer process: sends its share of jobs (with backpressure: at most 50 unfinished jobs in Redis), then exits. */
import { Redis } from 'ioredis';
import { RedisChannel } from 'weftjs/redis';
import type { Job } from './consumer.js';

const client = new Redis(process.env.REDIS_URL!);
const jobs = new RedisChannel<Job>(client, process.env.CHANNEL!, { capacity: 50 });
const first = Number(process.env.FIRST);
for (let id = first; id < first + Number(process.env.COUNT); id++) {
  await jobs.send({ id, size: 256 * 1024 }); // waits while 50 jobs are unfinished
}
await client.quit();
