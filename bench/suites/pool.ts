/**
 * weftjs/pool against piscina, tinypool, workerpool and poolifier, beside a hand-written floor (raw worker_threads,
 * one postMessage each way per task): tiny tasks all submitted at once (throughput), sequential round trips
 * (latency), and CPU-bound tasks (speedup over running them inline).
 */
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { FixedThreadPool } from 'poolifier';
import Tinypool from 'tinypool';
import workerpool from 'workerpool';
import { WorkerPool } from 'weftjs/pool';
import type { ScenarioResult } from '../lib/harness.js';
import {
  latency,
  speedup,
  throughput,
  type PoolRunner,
  type PoolScenarioNames,
} from '../lib/pool-scenarios.js';
import type { Suite } from '../lib/suite.js';

const THREADS = 2;
const workerFile = (name: string): URL => new URL(`../workers/${name}`, import.meta.url);

const NAMES: PoolScenarioNames = {
  id: 'pool',
  workers: `${THREADS} threads`,
  targets: {
    throughput: 'weft >= 2x the best peer',
    p50: 'weft <= the best peer',
    p99: 'weft <= 2x the floor',
    speedup: 'weft >= 1.95x',
  },
  // Round trips are cheap and noisy (thread wake-ups depend on where the OS places the threads): more rounds.
  latencyRounds: 15,
};

/** The floor: raw worker_threads, tasks spread round-robin, one postMessage each way, a promise per task. */
class RawPool {
  readonly #workers: Worker[];
  readonly #pending = new Map<number, (value: unknown) => void>();
  #nextId = 0;

  constructor(threads: number) {
    this.#workers = Array.from({ length: threads }, () => {
      const worker = new Worker(workerFile('raw.mjs'));
      worker.on('message', (message: [number, unknown]) => {
        const resolve = this.#pending.get(message[0])!;
        this.#pending.delete(message[0]);
        resolve(message[1]);
      });
      return worker;
    });
  }

  run(fn: 0 | 1, argument: unknown): Promise<unknown> {
    const id = this.#nextId++;
    const worker = this.#workers[id % this.#workers.length]!;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      worker.postMessage([id, fn, argument]);
    });
  }

  close(): Promise<unknown> {
    return Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

/** One way to run `echo` and `burn` on each implementation. */
function runners(): PoolRunner[] {
  const raw = new RawPool(THREADS);
  const weft = new WorkerPool({ worker: workerFile('weft.mjs'), minThreads: THREADS, maxThreads: THREADS });
  const piscina = new Piscina({
    filename: workerFile('named-exports.mjs').href,
    minThreads: THREADS,
    maxThreads: THREADS,
  });
  const tinypool = new Tinypool({
    filename: workerFile('named-exports.mjs').href,
    minThreads: THREADS,
    maxThreads: THREADS,
  });
  const wp = workerpool.pool(workerFile('workerpool.mjs').pathname, {
    minWorkers: THREADS,
    maxWorkers: THREADS,
    workerType: 'thread',
  });
  const poolifier = new FixedThreadPool(THREADS, workerFile('poolifier.mjs').pathname);
  return [
    {
      name: 'raw worker_threads (hand-written)',
      kind: 'floor',
      echo: (v) => raw.run(0, v),
      burn: (n) => raw.run(1, n),
      close: () => raw.close(),
    },
    {
      name: 'weft WorkerPool',
      kind: 'weft',
      echo: (v) => weft.run('echo', [v]),
      burn: (n) => weft.run('burn', [n]),
      close: () => weft.close(),
    },
    {
      name: 'piscina',
      kind: 'peer',
      echo: (v) => piscina.run(v, { name: 'echo' }),
      burn: (n) => piscina.run(n, { name: 'burn' }),
      close: () => piscina.destroy(),
    },
    {
      name: 'tinypool',
      kind: 'peer',
      echo: (v) => tinypool.run(v, { name: 'echo' }),
      burn: (n) => tinypool.run(n, { name: 'burn' }),
      close: () => tinypool.destroy(),
    },
    {
      name: 'workerpool',
      kind: 'peer',
      echo: (v) => wp.exec('echo', [v]),
      burn: (n) => wp.exec('burn', [n]),
      close: async () => {
        await wp.terminate();
      },
    },
    {
      name: 'poolifier',
      kind: 'peer',
      echo: (v) => poolifier.execute(v, 'echo'),
      burn: (n) => poolifier.execute(n, 'burn'),
      close: () => poolifier.destroy(),
    },
  ];
}

const suite: Suite = {
  name: 'pool',
  title: 'weftjs/pool: worker threads',
  description:
    'Every implementation runs two worker threads, started before measuring, with its default options. The floor ' +
    'is raw `worker_threads`: tasks spread round-robin, one `postMessage` each way per task, a promise per task, and ' +
    'nothing else (no queue, no cancellation, no crash handling). Throughput submits all tasks at once and counts ' +
    'completed tasks per second; weft batches small tasks into one message per worker and pipelines them, which ' +
    'takes it above the floor. Latency awaits one task at a time (p50 and p99 of each round; the harness forces a ' +
    'full GC before every round, which weighs on the first trips after it, and on a pool whose optimised code a ' +
    'full GC throws away while it is idle). Speedup ' +
    'runs CPU-bound tasks of about 20 ms and divides the time they take inline on the main thread by the time on ' +
    'the pool (2 threads: at most 2x).',
  async run({ quick, log }) {
    const all = runners();
    try {
      // Let every pool start its threads and load its worker before anything is measured.
      await Promise.all(
        all.map((r) => Promise.all(Array.from({ length: THREADS * 4 }, (_, i) => r.echo(i)))),
      );
      const results: ScenarioResult[] = [];
      log('  pool: throughput');
      results.push(await throughput(all, NAMES, quick));
      log('  pool: latency');
      results.push(...(await latency(all, NAMES, quick)));
      log('  pool: speedup');
      results.push(await speedup(all, NAMES, quick));
      return results;
    } finally {
      await Promise.all(all.map((r) => r.close()));
    }
  },
};

export default suite;
