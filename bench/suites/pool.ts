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
import {
  median,
  runScenario,
  timeAsync,
  type Contender,
  type ContenderKind,
  type ScenarioResult,
} from '../lib/harness.js';
import type { Suite } from '../lib/suite.js';
import { burn } from '../workers/burn.mjs';

const THREADS = 2;
const workerFile = (name: string): URL => new URL(`../workers/${name}`, import.meta.url);

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
interface Runner {
  name: string;
  kind: ContenderKind;
  echo(value: number): Promise<unknown>;
  burn(iterations: number): Promise<unknown>;
  close(): Promise<unknown>;
}

function runners(): Runner[] {
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

function throughput(all: Runner[], quick: boolean): Promise<ScenarioResult> {
  const tasks = quick ? 2_000 : 20_000;
  const contenders: Contender[] = all.map((r) => ({
    name: r.name,
    kind: r.kind,
    async sample() {
      const promises = new Array<Promise<unknown>>(tasks);
      const ms = await timeAsync(() => {
        for (let i = 0; i < tasks; i++) promises[i] = r.echo(i);
        return Promise.all(promises);
      });
      return (tasks / ms) * 1000;
    },
  }));
  return runScenario({
    id: 'pool-throughput',
    title: `${tasks.toLocaleString('en-US')} tiny echo tasks submitted at once, ${THREADS} threads`,
    unit: 'tasks/s',
    higherIsBetter: true,
    target: 'weft >= 2x the best peer',
    rounds: quick ? 2 : 9,
    warmup: quick ? 1 : 2,
    contenders,
  });
}

async function latency(all: Runner[], quick: boolean): Promise<ScenarioResult[]> {
  const trips = quick ? 200 : 1_000;
  const p99 = new Map<string, number[]>();
  const contenders: Contender[] = all.map((r) => ({
    name: r.name,
    kind: r.kind,
    async sample() {
      const times = new Float64Array(trips);
      for (let i = 0; i < trips; i++) {
        const start = performance.now();
        await r.echo(i);
        times[i] = (performance.now() - start) * 1000;
      }
      times.sort();
      const list = p99.get(r.name) ?? [];
      list.push(times[Math.ceil(trips * 0.99) - 1]!);
      p99.set(r.name, list);
      return times[(trips >> 1) - 1]!;
    },
  }));
  const p50Result = await runScenario({
    id: 'pool-latency',
    title: `${trips.toLocaleString('en-US')} sequential round trips: p50 latency`,
    unit: 'us',
    target: 'weft <= the best peer',
    // Round trips are cheap and noisy (thread wake-ups depend on where the OS places the threads): more rounds.
    rounds: quick ? 2 : 15,
    warmup: quick ? 1 : 2,
    contenders,
  });
  // The p99 of the same runs, reported as its own table (median over the rounds, warm-up rounds dropped).
  const rounds = p50Result.rows[0]!.samples.length;
  const floorName = all.find((r) => r.kind === 'floor')!.name;
  const rows = all.map((r) => {
    const samples = (p99.get(r.name) ?? []).slice(-rounds);
    return {
      name: r.name,
      kind: r.kind,
      median: median(samples),
      min: Math.min(...samples),
      max: Math.max(...samples),
      samples,
    };
  });
  const floor = rows.find((row) => row.name === floorName)!.median;
  const p99Result: ScenarioResult = {
    id: 'pool-latency-p99',
    title: `${trips.toLocaleString('en-US')} sequential round trips: p99 latency`,
    unit: 'us',
    higherIsBetter: false,
    target: 'weft <= 2x the floor',
    rows: rows.map((row) => ({ ...row, ratio: row.median / floor })),
  };
  return [p50Result, p99Result];
}

/** Iterations of `burn` that take about `ms` on this machine. */
function calibrate(ms: number): number {
  let iterations = 100_000;
  for (;;) {
    const start = performance.now();
    burn(iterations);
    const took = performance.now() - start;
    if (took > 5) return Math.round((iterations * ms) / took);
    iterations *= 2;
  }
}

async function speedup(all: Runner[], quick: boolean): Promise<ScenarioResult> {
  const tasks = quick ? 8 : 40;
  const iterations = calibrate(20);
  const probe = quick ? 2 : 8;
  const contenders: Contender[] = all.map((r) => ({
    name: r.name,
    kind: r.kind,
    async sample() {
      // The inline time is measured next to each pool run (on a few of the same tasks), so that other load on the
      // machine weighs on both sides of the ratio alike.
      const start = performance.now();
      for (let i = 0; i < probe; i++) burn(iterations + i);
      const inline = ((performance.now() - start) / probe) * tasks;
      const ms = await timeAsync(() =>
        Promise.all(Array.from({ length: tasks }, (_, i) => r.burn(iterations + i))),
      );
      return inline / ms;
    },
  }));
  return runScenario({
    id: 'pool-speedup',
    title: `${tasks} CPU-bound tasks of ~20 ms on ${THREADS} threads: speedup over running them inline`,
    unit: 'x inline',
    higherIsBetter: true,
    target: 'weft >= 1.95x',
    rounds: quick ? 1 : 7,
    warmup: 1,
    contenders,
  });
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
      results.push(await throughput(all, quick));
      log('  pool: latency');
      results.push(...(await latency(all, quick)));
      log('  pool: speedup');
      results.push(await speedup(all, quick));
      return results;
    } finally {
      await Promise.all(all.map((r) => r.close()));
    }
  },
};

export default suite;
