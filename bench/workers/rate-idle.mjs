// Uses one rate limiter (named by argv[2]) so that it must delay a call, then prints "idle" and does nothing more.
// The parent measures how long the process stays alive after that: a limiter that keeps a timer or an interval
// running while idle holds the process open.
import Bottleneck from 'bottleneck';
import { RateLimiter as TokenBucket } from 'limiter';
import pThrottle from 'p-throttle';
import PQueue from 'p-queue';
import { RateLimiter } from 'weftjs/sync';

const limit = 2;
const interval = 300;
const job = async () => {};

const contenders = {
  floor: null,
  weft: () => {
    const limiter = new RateLimiter({ limit, interval });
    return () => limiter.run(job);
  },
  'p-throttle': () => pThrottle({ limit, interval })(job),
  'p-throttle strict': () => pThrottle({ limit, interval, strict: true })(job),
  limiter: () => {
    const bucket = new TokenBucket({ tokensPerInterval: limit, interval });
    return async () => {
      await bucket.removeTokens(1);
      return job();
    };
  },
  bottleneck: () => {
    const bottleneck = new Bottleneck({
      reservoir: limit,
      reservoirRefreshAmount: limit,
      reservoirRefreshInterval: interval,
    });
    return () => bottleneck.schedule(job);
  },
  'p-queue interval': () => {
    const queue = new PQueue({ interval, intervalCap: limit });
    return () => queue.add(job);
  },
  'p-queue strict': () => {
    const queue = new PQueue({ interval, intervalCap: limit, strict: true });
    return () => queue.add(job);
  },
};

const name = process.argv[2];
if (!(name in contenders)) throw new Error(`unknown contender ${name}`);
const make = contenders[name];
if (make !== null) {
  const call = make();
  await Promise.all([call(), call(), call()]); // the third waits for the window
}
console.log('idle');
