// One consumer process of the demo's RedisChannel row: it takes chunks of the CPU job from the channel and runs them
// here (one process per core), reporting each finished chunk to the demo over IPC.
import { Redis } from 'ioredis';
import { RedisChannel } from 'weftjs/redis';
import { hashRounds } from './work.mjs';

const client = new Redis(process.env.REDIS_URL);
const channel = new RedisChannel(client, process.env.WEFT_DEMO_CHANNEL);
process.send({ ready: true });
await channel.process(({ first, count, rounds }) => {
  let sum = 0;
  for (let u = first; u < first + count; u++) sum = (sum + hashRounds(u, rounds)) >>> 0;
  process.send({ done: count, sum });
});
await client.quit();
