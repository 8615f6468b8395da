/**
 * weftjs/redis against its peers and a hand-written floor, with real processes forked against one local
 * redis-server: a mutex contended by 4 processes, a semaphore of 3 by 6 processes, a rate limit of 200/s shared by 3
 * processes, and the cost of one uncontended rate-limiter call. Besides wall time, the lock scenarios report acquire
 * p99, the longest run of grants to one process while others waited, the completion spread, and Redis commands and
 * Redis CPU per operation (from INFO); the rate scenario reports the rate achieved and the busiest 1 s window.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { median, type ContenderKind, type ScenarioResult } from '../lib/harness.js';
import type { Suite } from '../lib/suite.js';
import { RedisServer } from '../../tests/redis/server.js';

const workerFile = new URL('../workers/redis-contender.mjs', import.meta.url);

interface Worker {
  child: ChildProcess;
  call(message: object): Promise<Record<string, unknown>>;
}

async function startWorker(port: number): Promise<Worker> {
  const child = fork(workerFile, [], { env: { ...process.env, WEFT_REDIS_PORT: String(port) } });
  let pending: ((reply: Record<string, unknown>) => void) | undefined;
  const ready = new Promise<void>((resolve) => {
    child.on('message', (reply: Record<string, unknown>) => {
      if (reply.ready === true) resolve();
      else pending?.(reply);
    });
  });
  await ready;
  return {
    child,
    call: (message) =>
      new Promise((resolve, reject) => {
        pending = (reply) => (reply.ok === true ? resolve(reply) : reject(new Error(String(reply.error))));
        child.send(message);
      }),
  };
}

/** Total commands Redis has run and its CPU seconds so far. */
export async function redisCounters(redis: Redis): Promise<{ commands: number; cpu: number }> {
  const stats = (await redis.info('commandstats')) + (await redis.info('cpu'));
  let commands = 0;
  for (const match of stats.matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)) {
    if (match[1] !== 'info') commands += Number(match[2]);
  }
  const cpu =
    Number(/used_cpu_sys:([\d.]+)/.exec(stats)?.[1]) + Number(/used_cpu_user:([\d.]+)/.exec(stats)?.[1]);
  return { commands, cpu };
}

const now = (): number => performance.timeOrigin + performance.now();
export const quantile = (values: number[], q: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
};

export type Metrics = Record<string, number>;
export interface MetricSpec {
  id: string;
  title: string;
  unit: string;
  higherIsBetter?: boolean;
  target?: string;
}

/** Runs each contender once per round, rotating the order, and turns each metric into one scenario result. */
export async function compare(
  contenders: { name: string; kind: ContenderKind; sample: () => Promise<Metrics> }[],
  specs: Record<string, MetricSpec>,
  rounds: number,
  warmup: number,
  log: (line: string) => void,
): Promise<ScenarioResult[]> {
  const samples = contenders.map(() => [] as Metrics[]);
  for (let round = 0; round < warmup + rounds; round++) {
    for (let i = 0; i < contenders.length; i++) {
      const index = (i + round) % contenders.length;
      const metrics = await contenders[index]!.sample();
      if (round >= warmup) samples[index]!.push(metrics);
      log(
        `  ${Object.values(specs)[0]!.id}: round ${round + 1}/${warmup + rounds} ${contenders[index]!.name}`,
      );
    }
  }
  return Object.entries(specs).map(([metric, spec]) => {
    const values = samples.map((list) => list.map((m) => m[metric]!));
    const medians = values.map(median);
    const floorIndex = contenders.findIndex((c) => c.kind === 'floor');
    const floor = medians[floorIndex];
    return {
      id: spec.id,
      title: spec.title,
      unit: spec.unit,
      higherIsBetter: spec.higherIsBetter ?? false,
      target: spec.target,
      rows: contenders.map((c, i) => {
        const m = medians[i]!;
        const ratio =
          floor === undefined || floor === 0 || m === 0
            ? undefined
            : spec.higherIsBetter
              ? floor / m
              : m / floor;
        return {
          name: c.name,
          kind: c.kind,
          median: m,
          min: Math.min(...values[i]!),
          max: Math.max(...values[i]!),
          ratio,
          samples: values[i]!,
        };
      }),
    };
  });
}

const LOCKS: { name: string; kind: ContenderKind }[] = [
  { name: 'floor: Lua FIFO + BLPOP mailbox', kind: 'floor' },
  { name: 'weftjs/redis', kind: 'weft' },
  { name: 'redlock', kind: 'peer' },
  { name: 'redis-semaphore', kind: 'peer' },
];
const LOCK_IDS: Record<string, string> = {
  'floor: Lua FIFO + BLPOP mailbox': 'floor',
  'weftjs/redis': 'weft',
  redlock: 'redlock',
  'redis-semaphore': 'redis-semaphore',
};

const suite: Suite = {
  name: 'redis',
  title: 'weftjs/redis: locks and rate limits across processes',
  description:
    'Real Node processes forked against one local redis-server (7.0), every contender on ioredis. Mutex: 4 ' +
    'processes each take the lock, yield once inside, and release it, in a loop. Semaphore: the same with 6 ' +
    'processes and 3 permits. The floor is the least code that is fair: a FIFO queue in Redis with Lua and a ' +
    'per-waiter BLPOP mailbox, without leases, renewal or fencing. redlock (retryCount -1, other options default) ' +
    'and redis-semaphore (defaults: a 10 ms retry interval) poll. "Longest run" is the most grants in a row to one ' +
    'process while the others were waiting (1 is perfectly fair); "spread" is the time between the first and the last ' +
    'process finishing, as a share of the run. Commands and CPU per operation are read from Redis INFO (commands ' +
    'called by scripts count). Rate limit: 3 processes, 4 callers each, sharing 200 a second for 3 s; ' +
    'rate-limiter-flexible counts fixed 1 s windows, bottleneck refreshes a reservoir every second. Admission ' +
    'times are taken by the callers when their call returns, so the busiest window carries a few calls of ' +
    'observation jitter on this loaded machine (the floor shows it too); the tests check the exact property on the ' +
    "admission log Redis keeps, in Redis's time.",
  async run({ quick, log }) {
    const server = await RedisServer.start();
    const redis = new Redis(server.port, '127.0.0.1');
    const workers = await Promise.all(Array.from({ length: 6 }, () => startWorker(server.port)));
    const rounds = quick ? 2 : 5;
    const warmup = quick ? 0 : 1;
    let run = 0;
    try {
      const lockSample =
        (contender: string, processes: number, permits: number) => async (): Promise<Metrics> => {
          const iterations = quick ? 20 : 100;
          const key = `bench:${contender}:${run++}`;
          const before = await redisCounters(redis);
          const start = now();
          const replies = await Promise.all(
            workers
              .slice(0, processes)
              .map((w) => w.call({ kind: 'lock', contender, key, permits, iterations })),
          );
          const wall = now() - start;
          const after = await redisCounters(redis);
          const ops = processes * iterations;
          const grants = replies
            .flatMap((reply, p) => (reply.grants as number[]).map((at) => ({ at, p })))
            .sort((x, y) => x.at - y.at);
          const finished = replies.map((reply) => reply.done as number);
          // Longest run of grants to one process while every other process still had grants to come.
          let longest = 1;
          let streak = 1;
          const lastGrant = new Map<number, number>();
          for (const g of grants) lastGrant.set(g.p, g.at);
          for (let i = 1; i < grants.length; i++) {
            const g = grants[i]!;
            const othersWaiting = [...lastGrant].some(([p, last]) => p !== g.p && last > g.at);
            streak = g.p === grants[i - 1]!.p && othersWaiting ? streak + 1 : 1;
            longest = Math.max(longest, streak);
          }
          return {
            wall,
            p99: quantile(
              replies.flatMap((reply) => reply.waits as number[]),
              0.99,
            ),
            longest,
            spread: ((Math.max(...finished) - Math.min(...finished)) / wall) * 100,
            commands: (after.commands - before.commands) / ops,
            cpu: ((after.cpu - before.cpu) / ops) * 1e6,
          };
        };
      const lockSpecs = (what: string, id: string): Record<string, MetricSpec> => ({
        wall: { id: `${id}-wall`, title: `${what}: wall time`, unit: 'ms', target: 'weft <= 1.5x floor' },
        p99: { id: `${id}-p99`, title: `${what}: acquire p99`, unit: 'ms', target: 'weft <= 1.5x floor' },
        longest: {
          id: `${id}-longest`,
          title: `${what}: longest run of grants to one process while others waited`,
          unit: 'grants',
        },
        spread: {
          id: `${id}-spread`,
          title: `${what}: completion spread`,
          unit: '% of the run',
          target: 'mutex: weft <= 10%',
        },
        commands: {
          id: `${id}-commands`,
          title: `${what}: Redis commands per lock + release`,
          unit: 'commands',
          target: 'weft <= floor',
        },
        cpu: {
          id: `${id}-cpu`,
          title: `${what}: Redis CPU per lock + release`,
          unit: 'us',
          target: 'weft <= floor',
        },
      });
      const results: ScenarioResult[] = [];
      results.push(
        ...(await compare(
          LOCKS.map((c) => ({ ...c, sample: lockSample(LOCK_IDS[c.name]!, 4, 1) })),
          lockSpecs('Mutex, 4 processes', 'redis-mutex'),
          rounds,
          warmup,
          log,
        )),
      );
      results.push(
        ...(await compare(
          LOCKS.filter((c) => c.name !== 'redlock').map((c) => ({
            ...c,
            sample: lockSample(LOCK_IDS[c.name]!, 6, 3),
          })),
          lockSpecs('Semaphore(3), 6 processes', 'redis-semaphore'),
          rounds,
          warmup,
          log,
        )),
      );

      const RATES: { name: string; id: string; kind: ContenderKind }[] = [
        { name: 'floor: sliding log in one Lua call', id: 'floor', kind: 'floor' },
        { name: 'weftjs/redis', id: 'weft', kind: 'weft' },
        { name: 'bottleneck (Redis clustering)', id: 'bottleneck', kind: 'peer' },
        { name: 'rate-limiter-flexible', id: 'rate-limiter-flexible', kind: 'peer' },
      ];
      const duration = quick ? 2_000 : 3_000;
      const rateSample = (contender: string) => async (): Promise<Metrics> => {
        const key = `bench:rate:${contender}:${run++}`;
        const replies = await Promise.all(
          workers
            .slice(0, 3)
            .map((w) =>
              w.call({ kind: 'rate', contender, key, limit: 200, interval: 1_000, duration, concurrency: 4 }),
            ),
        );
        const times = replies.flatMap((reply) => reply.admitted as number[]).sort((a, b) => a - b);
        let busiest = 0;
        for (let i = 0, j = 0; i < times.length; i++) {
          while (times[i]! - times[j]! >= 1_000) j++;
          busiest = Math.max(busiest, i - j + 1);
        }
        const shares = replies.map((reply) => (reply.admitted as number[]).length / (times.length / 3));
        return {
          // The rate after the first window (whose burst of 200 any sliding-window limiter admits at once).
          achieved:
            (times.filter((t) => t >= times[0]! + 1_000 && t < times[0]! + duration).length /
              (((duration - 1_000) / 1_000) * 200)) *
            100,
          busiest,
          share: Math.min(...shares) * 100,
        };
      };
      results.push(
        ...(await compare(
          RATES.map((c) => ({ name: c.name, kind: c.kind, sample: rateSample(c.id) })),
          {
            achieved: {
              id: 'redis-rate-achieved',
              title:
                'Rate limit 200/s, 3 processes: rate achieved after the first second, as a share of the limit',
              unit: '%',
              higherIsBetter: true,
              target: 'weft >= 95%',
            },
            busiest: {
              id: 'redis-rate-busiest',
              title: 'Rate limit 200/s, 3 processes: most admissions in any 1 s window',
              unit: 'calls',
              target: '<= 200',
            },
            share: {
              id: 'redis-rate-share',
              title: 'Rate limit 200/s, 3 processes: smallest process share of a fair third',
              unit: '%',
              higherIsBetter: true,
            },
          },
          rounds,
          warmup,
          log,
        )),
      );
      const overheadSample = (contender: string) => async (): Promise<Metrics> => {
        const reply = await workers[0]!.call({
          kind: 'overhead',
          contender,
          key: `bench:over:${contender}:${run++}`,
          calls: quick ? 100 : 500,
        });
        return { perCall: reply.perCall as number };
      };
      results.push(
        ...(await compare(
          RATES.map((c) => ({ name: c.name, kind: c.kind, sample: overheadSample(c.id) })),
          {
            perCall: {
              id: 'redis-rate-overhead',
              title: 'Rate limiter: one uncontended call',
              unit: 'ms',
              target: 'weft <= 1.5x floor',
            },
          },
          rounds,
          warmup,
          log,
        )),
      );
      return results;
    } finally {
      for (const w of workers) w.child.kill('SIGKILL');
      redis.disconnect();
      await server.stop();
    }
  },
};

export default suite;
