// One process of the weftjs/redis benchmark: on each message it runs one contender (weft, a peer, or the hand-written
// floor) for one workload against the suite's redis-server, and reports what it measured. Times are absolute
// (performance.timeOrigin + now), so the parent can merge the grant logs of every process on this host.
import { Redis } from 'ioredis';
import Redlock from 'redlock';
import { Mutex as RsMutex, Semaphore as RsSemaphore } from 'redis-semaphore';
import Bottleneck from 'bottleneck';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { RedisMutex, RedisRateLimiter, RedisSemaphore } from 'weftjs/redis';

const port = Number(process.env.WEFT_REDIS_PORT);
const client = new Redis(port, '127.0.0.1');
let blocking; // the floor's one blocking connection for BLPOP mailboxes, opened on first use
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const tick = () => new Promise((resolve) => setImmediate(resolve));
let nextId = 0;
const newId = () => `${process.pid}:${nextId++}`;

// ---- The floor: a FIFO queue in Redis with Lua, and a per-waiter BLPOP mailbox; no lease renewal, no fencing. ----
const FLOOR_ACQUIRE = `
if tonumber(redis.call('GET', KEYS[1]) or '0') < tonumber(ARGV[2]) and redis.call('LLEN', KEYS[2]) == 0 then
  redis.call('INCR', KEYS[1]) return 1 end
redis.call('RPUSH', KEYS[2], ARGV[1]) return 0`;
const FLOOR_RELEASE = `
local next = redis.call('LPOP', KEYS[2])
if next then redis.call('LPUSH', ARGV[1] .. next, 1) else redis.call('DECR', KEYS[1]) end
return 1`;
const FLOOR_TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now, ARGV[3]) redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 0 end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return tonumber(oldest[2]) + tonumber(ARGV[2]) - now`;
client.defineCommand('floorAcquire', { numberOfKeys: 2, lua: FLOOR_ACQUIRE });
client.defineCommand('floorRelease', { numberOfKeys: 2, lua: FLOOR_RELEASE });
client.defineCommand('floorTake', { numberOfKeys: 1, lua: FLOOR_TAKE });

function floorLock(key, permits) {
  return async () => {
    const id = newId();
    if ((await client.floorAcquire(`${key}:count`, `${key}:queue`, id, permits)) === 0) {
      blocking ??= client.duplicate();
      await blocking.blpop(`${key}:mb:${id}`, 0);
    }
    return () => client.floorRelease(`${key}:count`, `${key}:queue`, `${key}:mb:`);
  };
}

function floorTake(key, limit, interval) {
  return async () => {
    const id = newId();
    for (;;) {
      const wait = await client.floorTake(key, limit, interval, id);
      if (wait === 0) return;
      await sleep(wait);
    }
  };
}

// ---- Locks: each returns `lock()` resolving with `unlock()`. ----
const redlock = new Redlock([client], { retryCount: -1 });
const lockMakers = {
  floor: (key, permits) => floorLock(key, permits),
  weft: (key, permits) => {
    const lock =
      permits === 1
        ? new RedisMutex(client, key, { lease: 10_000 })
        : new RedisSemaphore(client, key, permits, { lease: 10_000 });
    return async () => {
      const permit = permits === 1 ? await lock.lock() : await lock.acquire();
      return () => permit.release();
    };
  },
  redlock: (key) => async () => {
    const lock = await redlock.lock(key, 10_000);
    return () => lock.unlock();
  },
  'redis-semaphore': (key, permits) => async () => {
    const options = { lockTimeout: 10_000, acquireTimeout: 120_000 };
    const lock =
      permits === 1 ? new RsMutex(client, key, options) : new RsSemaphore(client, key, permits, options);
    await lock.acquire();
    return () => lock.release();
  },
};

// ---- Rate limiters: each returns `take()`. ----
const limiters = new Map();
const takeMakers = {
  floor: (key, limit, interval) => floorTake(key, limit, interval),
  weft: (key, limit, interval) => {
    const limiter = new RedisRateLimiter(client, key, { limit, interval });
    return () => limiter.take();
  },
  bottleneck: (key, limit, interval) => {
    const limiter = new Bottleneck({
      id: key,
      datastore: 'ioredis',
      clientOptions: { host: '127.0.0.1', port },
      reservoir: limit,
      reservoirRefreshAmount: limit,
      reservoirRefreshInterval: interval,
    });
    limiters.set(key, limiter);
    return () => limiter.schedule(() => undefined);
  },
  'rate-limiter-flexible': (key, limit, interval) => {
    const limiter = new RateLimiterRedis({
      storeClient: client,
      keyPrefix: key,
      points: limit,
      duration: interval / 1000,
    });
    return async () => {
      for (;;) {
        try {
          await limiter.consume('all');
          return;
        } catch (rejection) {
          if (rejection instanceof Error) throw rejection;
          await sleep(rejection.msBeforeNext);
        }
      }
    };
  },
};

async function lockRun({ contender, key, permits, iterations }) {
  const lock = lockMakers[contender](key, permits);
  const waits = [];
  const grants = [];
  for (let i = 0; i < iterations; i++) {
    const start = now();
    const unlock = await lock();
    const at = now();
    waits.push(at - start);
    grants.push(at);
    await tick(); // the critical section
    await unlock();
  }
  return { waits, grants, done: now() };
}

async function rateRun({ contender, key, limit, interval, duration, concurrency }) {
  const take = takeMakers[contender](key, limit, interval);
  const admitted = [];
  const end = now() + duration;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (now() < end) {
        await take();
        admitted.push(now());
      }
    }),
  );
  return { admitted, done: now() };
}

async function overheadRun({ contender, key, calls }) {
  const take = takeMakers[contender](key, 1e9, 1_000);
  await take();
  const start = now();
  for (let i = 0; i < calls; i++) await take();
  return { perCall: (now() - start) / calls };
}

process.on('message', async (message) => {
  const run = message.kind === 'lock' ? lockRun : message.kind === 'rate' ? rateRun : overheadRun;
  try {
    process.send({ ok: true, ...(await run(message)) });
  } catch (error) {
    process.send({ ok: false, error: String(error?.stack ?? error) });
  }
});
process.send({ ready: true });
