/**
 * One process of the cluster example: jobs that take a turn from the shared rate limit, call the "payment API" under
 * the shared semaphore (2 at a time across all processes), then update the ledger under the shared lock.
 */
import { Redis } from 'ioredis';
import { RedisMutex, RedisRateLimiter, RedisSemaphore } from 'weftjs/redis';

export interface WorkerReport {
  worker: number;
  jobs: number;
  lastToken: number;
}

const redis = new Redis(process.env.REDIS_URL!);
const rate = new RedisRateLimiter(redis, 'example:jobs', {
  limit: Number(process.env.RATE),
  interval: 1_000,
});
const api = new RedisSemaphore(redis, 'example:payment-api', 2, { lease: 5_000 });
const ledger = new RedisMutex(redis, 'example:ledger', { lease: 5_000 });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function job(): Promise<number> {
  await rate.take();
  await api.run(async () => {
    const calls = await redis.incr('example:api-calls');
    const peak = Number(await redis.get('example:api-peak'));
    if (calls > peak) await redis.set('example:api-peak', calls);
    await sleep(5); // the API call
    await redis.decr('example:api-calls');
  });
  // A read-modify-write that would lose updates without the lock.
  return ledger.run(async (lock) => {
    const balance = Number(await redis.get('example:ledger'));
    await sleep(1);
    await redis.set('example:ledger', balance + 1);
    return lock.token; // a real store would reject writes carrying an older token
  });
}

let lastToken = 0;
const jobs = Number(process.env.JOBS);
const running: Promise<void>[] = [];
for (let i = 0; i < 3; i++) {
  running.push(
    (async () => {
      for (let n = i; n < jobs; n += 3) lastToken = Math.max(lastToken, await job());
    })(),
  );
}
await Promise.all(running);
process.send!({ worker: Number(process.env.WORKER), jobs, lastToken } satisfies WorkerReport);
await redis.quit();
