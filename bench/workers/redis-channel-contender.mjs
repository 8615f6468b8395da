// One process of the RedisChannel benchmark: a producer or a consumer of one contender (weftjs/redis RedisChannel,
// BullMQ Queue + Worker, or the hand-written Streams floor) against the suite's redis-server. Consumers report
// their progress every 20 ms; each job carries its send time (absolute ms), so the end-to-end latency is measured
// across processes on this host.
import { Redis } from 'ioredis';
import { Queue, Worker } from 'bullmq';
import { RedisChannel } from 'weftjs/redis';

const port = Number(process.env.WEFT_REDIS_PORT);
const client = new Redis(port, '127.0.0.1');
const bullConnection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
const now = () => performance.timeOrigin + performance.now();
const GROUP = 'floor';

let consumer; // { count, latencies, lastAt, stop() }

function progress() {
  if (consumer !== undefined) process.send({ progress: consumer.count });
}
setInterval(progress, 20).unref();

function record(job) {
  consumer.latencies.push(now() - job.t);
  consumer.count++;
  consumer.lastAt = now();
}

// ---- The floor: XADD; one XREADGROUP per batch of free slots; one XACK per batch. No trimming, no redelivery. ----
async function floorConsume(queue, concurrency) {
  await client.xgroup('CREATE', queue, GROUP, '0', 'MKSTREAM').catch(() => {});
  const reader = client.duplicate();
  const name = `c${process.pid}`;
  let running = true;
  const loop = (async () => {
    while (running) {
      const reply = await reader.xreadgroup(
        'GROUP',
        GROUP,
        name,
        'COUNT',
        concurrency,
        'BLOCK',
        100,
        'STREAMS',
        queue,
        '>',
      );
      if (reply === null) continue;
      const entries = reply[0][1];
      await Promise.all(entries.map(async ([, fields]) => record(JSON.parse(fields[1]))));
      await client.xack(queue, GROUP, ...entries.map(([id]) => id));
    }
  })();
  return async () => {
    running = false;
    await loop;
    reader.disconnect();
  };
}

async function floorProduce(queue, count, chunk) {
  for (let start = 0; start < count; start += chunk) {
    const pipeline = client.pipeline();
    for (let i = start; i < Math.min(count, start + chunk); i++)
      pipeline.xadd(queue, '*', 'v', JSON.stringify({ t: now() }));
    await pipeline.exec();
  }
}

async function start(message) {
  const { contender, queue, concurrency, visibility, track } = message;
  consumer = { count: 0, latencies: [], lastAt: 0, stop: async () => {} };
  if (contender === 'floor') {
    consumer.stop = await floorConsume(queue, concurrency);
  } else if (contender === 'weft') {
    const channel = new RedisChannel(client, queue, { visibility });
    const stop = new AbortController();
    // With `track`, each finished job's index goes to a Redis set before the handler returns (the kill scenario).
    const handler =
      track === undefined ? record : async (job) => (await client.sadd(track, job.i), record(job));
    const done = channel.process(handler, { concurrency, signal: stop.signal }).catch(() => {});
    consumer.stop = async () => {
      stop.abort();
      await done;
    };
  } else {
    const worker = new Worker(queue, async (job) => record(job.data), {
      connection: bullConnection,
      concurrency,
      removeOnComplete: { count: 0 },
    });
    consumer.stop = () => worker.close();
  }
  return {};
}

async function produce(message) {
  const { contender, queue, count, chunk } = message;
  if (contender === 'floor') await floorProduce(queue, count, chunk);
  else if (contender === 'weft') {
    const channel = new RedisChannel(client, queue);
    for (let start = 0; start < count; start += chunk) {
      const sends = [];
      for (let i = start; i < Math.min(count, start + chunk); i++) sends.push(channel.send({ t: now(), i }));
      await Promise.all(sends);
    }
  } else {
    const bull = new Queue(queue, { connection: bullConnection });
    for (let start = 0; start < count; start += chunk) {
      const adds = [];
      for (let i = start; i < Math.min(count, start + chunk); i++) {
        adds.push(bull.add('job', { t: now() }, { removeOnComplete: true }));
      }
      await Promise.all(adds);
    }
    await bull.close();
  }
  return {};
}

async function finish() {
  const c = consumer;
  consumer = undefined;
  await c.stop();
  return { count: c.count, latencies: c.latencies, lastAt: c.lastAt };
}

process.on('message', async (message) => {
  try {
    const run = { start, produce, finish }[message.kind];
    process.send({ ok: true, ...(await run(message)) });
  } catch (error) {
    process.send({ ok: false, error: String(error?.stack ?? error) });
  }
});
process.send({ ready: true });
