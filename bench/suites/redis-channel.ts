/**
 * RedisChannel against BullMQ (Queue + Worker) and a hand-written Streams floor, with real processes forked against
 * one local redis-server: 1 producer process sends tiny jobs, 3 consumer processes run them with concurrency 8.
 * Reported: throughput, wall time, Redis commands per job (INFO commandstats, commands run by scripts included) and
 * end-to-end latency p50/p99 (send to handler, across processes on this host). A second scenario SIGKILLs one
 * consumer at 30% and measures the time from the kill until every job is finished.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import type { ContenderKind, ScenarioResult } from '../lib/harness.js';
import type { Suite } from '../lib/suite.js';
import { RedisServer } from '../../tests/redis/server.js';
import { compare, quantile, redisCounters, type Metrics } from './redis.js';

const workerFile = new URL('../workers/redis-channel-contender.mjs', import.meta.url);

interface Worker {
  child: ChildProcess;
  /** Jobs this process has finished in the current sample, as last reported. */
  progress: number;
  call(message: object): Promise<Record<string, unknown>>;
}

async function startWorker(port: number): Promise<Worker> {
  const child = fork(workerFile, [], { env: { ...process.env, WEFT_REDIS_PORT: String(port) } });
  let pending: ((reply: Record<string, unknown>) => void) | undefined;
  const worker: Worker = {
    child,
    progress: 0,
    call: (message) =>
      new Promise((resolve, reject) => {
        pending = (reply) => (reply.ok === true ? resolve(reply) : reject(new Error(String(reply.error))));
        child.send(message);
      }),
  };
  await new Promise<void>((resolve) => {
    child.on('message', (reply: Record<string, unknown>) => {
      if (reply.ready === true) resolve();
      else if (typeof reply.progress === 'number') worker.progress = reply.progress;
      else pending?.(reply);
    });
  });
  return worker;
}

const now = (): number => performance.timeOrigin + performance.now();
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const CONTENDERS: { name: string; id: string; kind: ContenderKind }[] = [
  { name: 'floor: XADD, XREADGROUP, XACK', id: 'floor', kind: 'floor' },
  { name: 'weftjs/redis RedisChannel', id: 'weft', kind: 'weft' },
  { name: 'BullMQ Queue + Worker', id: 'bullmq', kind: 'peer' },
];
const CONCURRENCY = 8;
const VISIBILITY = 2_000;

const suite: Suite = {
  name: 'redis-channel',
  title: 'weftjs/redis: RedisChannel, a work queue across processes',
  description:
    'Real Node processes forked against one local redis-server (7.0), every contender on ioredis: 1 producer ' +
    'process sends 20 000 tiny jobs (1 000 sends in flight), 3 consumer processes run them with concurrency 8. ' +
    'The floor is the least code on a Redis Stream: pipelined XADD, one XREADGROUP per batch of free slots, one ' +
    "XACK per batch, with no trimming, no redelivery of a dead consumer's jobs, no retries, no close. BullMQ jobs " +
    'are removed on completion. Commands per job are read from Redis INFO (commands run by scripts count); the ' +
    'latency is from send to handler, across processes. Kill: one consumer is SIGKILLed once 30% of the jobs are ' +
    `done (visibility ${VISIBILITY} ms); measured from the kill until the stream is empty with nothing pending; ` +
    'there each handler also records its job in a Redis set, to count the jobs never finished.',
  async run({ quick, log }) {
    const server = await RedisServer.start();
    const redis = new Redis(server.port, '127.0.0.1');
    const consumers = await Promise.all(Array.from({ length: 3 }, () => startWorker(server.port)));
    const producer = await startWorker(server.port);
    const total = quick ? 2_000 : 20_000;
    const rounds = quick ? 1 : 5;
    const warmup = quick ? 0 : 1;
    let run = 0;
    const startConsumers = (contender: string, queue: string, track?: string): Promise<unknown> =>
      Promise.all(
        consumers.map((w) => {
          w.progress = 0;
          return w.call({
            kind: 'start',
            contender,
            queue,
            concurrency: CONCURRENCY,
            visibility: VISIBILITY,
            track,
          });
        }),
      );
    try {
      const sample = (contender: string) => async (): Promise<Metrics> => {
        const queue = `bench-ch-${contender}-${run++}`;
        await startConsumers(contender, queue);
        const before = await redisCounters(redis);
        const start = now();
        const producing = producer.call({ kind: 'produce', contender, queue, count: total, chunk: 1_000 });
        while (consumers.reduce((sum, w) => sum + w.progress, 0) < total) await delay(10);
        await producing;
        const after = await redisCounters(redis);
        const finals = await Promise.all(consumers.map((w) => w.call({ kind: 'finish' })));
        const wall = Math.max(...finals.map((f) => f.lastAt as number)) - start;
        const latencies = finals.flatMap((f) => f.latencies as number[]);
        return {
          throughput: (total / wall) * 1_000,
          wall,
          commands: (after.commands - before.commands) / total,
          p50: quantile(latencies, 0.5),
          p99: quantile(latencies, 0.99),
        };
      };
      const what = `${total} jobs, 1 producer, 3 consumer processes x ${CONCURRENCY}`;
      const results: ScenarioResult[] = await compare(
        CONTENDERS.map((c) => ({ name: c.name, kind: c.kind, sample: sample(c.id) })),
        {
          throughput: {
            id: 'redis-channel-throughput',
            title: `${what}: throughput`,
            unit: 'jobs/s',
            higherIsBetter: true,
            target: 'weft >= 1.5x BullMQ',
          },
          wall: {
            id: 'redis-channel-wall',
            title: `${what}: wall time`,
            unit: 'ms',
            target: 'weft <= 1.5x floor',
          },
          commands: {
            id: 'redis-channel-commands',
            title: `${what}: Redis commands per job`,
            unit: 'commands',
            target: 'weft <= 3',
          },
          p50: { id: 'redis-channel-p50', title: `${what}: end-to-end latency p50`, unit: 'ms' },
          p99: { id: 'redis-channel-p99', title: `${what}: end-to-end latency p99`, unit: 'ms' },
        },
        rounds,
        warmup,
        log,
      );

      const killSample = async (): Promise<Metrics> => {
        const queue = `bench-ch-kill-${run++}`;
        const stream = `weft:{${queue}}`;
        const finished = `${queue}:finished`;
        await startConsumers('weft', queue, finished);
        const producing = producer.call({
          kind: 'produce',
          contender: 'weft',
          queue,
          count: total,
          chunk: 1_000,
        });
        while (consumers.reduce((sum, w) => sum + w.progress, 0) < total * 0.3) await delay(5);
        const victim = consumers[0]!;
        const exited = new Promise((resolve) => victim.child.once('exit', resolve));
        victim.child.kill('SIGKILL');
        const killedAt = now();
        await exited;
        await producing;
        for (;;) {
          const [length, pending] = await Promise.all([
            redis.xlen(stream),
            redis.xpending(stream, 'weft') as Promise<[number, ...unknown[]]>,
          ]);
          if (length === 0 && pending[0] === 0) break;
          await delay(5);
        }
        const end = now();
        const lost = total - (await redis.scard(finished));
        await Promise.all(consumers.slice(1).map((w) => w.call({ kind: 'finish' })));
        consumers[0] = await startWorker(server.port);
        return { recovery: end - killedAt, lost };
      };
      results.push(
        ...(await compare(
          [{ name: 'weftjs/redis RedisChannel', kind: 'weft', sample: killSample }],
          {
            recovery: {
              id: 'redis-channel-kill',
              title: `${what}, one consumer SIGKILLed at 30%: time from the kill until every job is finished`,
              unit: 'ms',
              target: `<= visibility + 1 s (${VISIBILITY + 1_000} ms)`,
            },
            lost: {
              id: 'redis-channel-kill-lost',
              title: 'Jobs never finished after the kill (each finished job recorded in a Redis set)',
              unit: 'jobs',
              target: '0',
            },
          },
          quick ? 1 : 3,
          0,
          log,
        )),
      );
      return results;
    } finally {
      for (const w of [...consumers, producer]) w.child.kill('SIGKILL');
      redis.disconnect();
      await server.stop();
    }
  },
};

export default suite;
