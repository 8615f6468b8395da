/**
 * weftjs/pool with `runtime: 'process'` against tinypool (`runtime: 'child_process'`) and workerpool
 * (`workerType: 'process'`), beside a hand-written floor (raw `child_process.fork`, one IPC message each way per
 * task): throughput of tiny tasks, round-trip latency, CPU speedup; then what a process costs next to a thread:
 * start-up time and memory per worker.
 */
import { fork, type ChildProcess } from 'node:child_process';
import Tinypool from 'tinypool';
import workerpool from 'workerpool';
import { WorkerPool } from 'weftjs/pool';
import { collectGarbage, median, runScenario, timeAsync, type ScenarioResult } from '../lib/harness.js';
import {
  latency,
  speedup,
  throughput,
  type PoolRunner,
  type PoolScenarioNames,
} from '../lib/pool-scenarios.js';
import type { Suite } from '../lib/suite.js';

const PROCESSES = 2;
const workerFile = (name: string): URL => new URL(`../workers/${name}`, import.meta.url);

const NAMES: PoolScenarioNames = {
  id: 'pool-process',
  workers: `${PROCESSES} processes`,
  tripsTo: ' to a child process',
  targets: { throughput: 'weft >= 2x the best peer', speedup: 'weft >= 1.9x' },
  latencyRounds: 11,
};
const MB = 1024 * 1024;

/** The floor: raw child processes, tasks spread round-robin, one IPC message each way, a promise per task. */
class RawProcessPool {
  readonly #children: ChildProcess[];
  readonly #pending = new Map<number, (value: unknown) => void>();
  #nextId = 0;

  constructor(processes: number) {
    this.#children = Array.from({ length: processes }, () => {
      const child = fork(workerFile('raw-process.mjs'), { serialization: 'advanced' });
      child.on('message', (message: [number, unknown]) => {
        const resolve = this.#pending.get(message[0])!;
        this.#pending.delete(message[0]);
        resolve(message[1]);
      });
      return child;
    });
  }

  run(fn: 0 | 1 | 2, argument: unknown): Promise<unknown> {
    const id = this.#nextId++;
    const child = this.#children[id % this.#children.length]!;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      child.send([id, fn, argument]);
    });
  }

  close(): Promise<unknown> {
    return Promise.all(
      this.#children.map(
        (child) =>
          new Promise((resolve) => {
            child.once('exit', resolve);
            child.kill();
          }),
      ),
    );
  }
}

function runners(): PoolRunner[] {
  const raw = new RawProcessPool(PROCESSES);
  const weft = new WorkerPool({
    worker: workerFile('weft.mjs'),
    runtime: 'process',
    minThreads: PROCESSES,
    maxThreads: PROCESSES,
  });
  const tinypool = new Tinypool({
    filename: workerFile('named-exports.mjs').href,
    runtime: 'child_process',
    minThreads: PROCESSES,
    maxThreads: PROCESSES,
  });
  const wp = workerpool.pool(workerFile('workerpool.mjs').pathname, {
    minWorkers: PROCESSES,
    maxWorkers: PROCESSES,
    workerType: 'process',
  });
  const threads = new WorkerPool({
    worker: workerFile('weft.mjs'),
    minThreads: PROCESSES,
    maxThreads: PROCESSES,
  });
  return [
    {
      name: 'raw child_process.fork (hand-written)',
      kind: 'floor',
      echo: (v) => raw.run(0, v),
      burn: (n) => raw.run(1, n),
      close: () => raw.close(),
    },
    {
      name: "weft WorkerPool, runtime: 'process'",
      kind: 'weft',
      echo: (v) => weft.run('echo', [v]),
      burn: (n) => weft.run('burn', [n]),
      close: () => weft.close(),
    },
    {
      name: "tinypool, runtime: 'child_process'",
      kind: 'peer',
      echo: (v) => tinypool.run(v, { name: 'echo' }),
      burn: (n) => tinypool.run(n, { name: 'burn' }),
      close: () => tinypool.destroy(),
    },
    {
      name: "workerpool, workerType: 'process'",
      kind: 'peer',
      echo: (v) => wp.exec('echo', [v]),
      burn: (n) => wp.exec('burn', [n]),
      close: async () => {
        await wp.terminate();
      },
    },
    {
      name: "weft WorkerPool, runtime: 'thread' (for comparison)",
      kind: 'baseline',
      echo: (v) => threads.run('echo', [v]),
      burn: (n) => threads.run('burn', [n]),
      close: () => threads.close(),
    },
  ];
}

/** Threads against processes, both weft: what one worker costs to start, and to keep. */
async function workerCosts(quick: boolean): Promise<ScenarioResult[]> {
  const thread = (): WorkerPool =>
    new WorkerPool({ worker: workerFile('weft.mjs'), minThreads: 1, maxThreads: 1 });
  const processPool = (): WorkerPool =>
    new WorkerPool({ worker: workerFile('weft.mjs'), runtime: 'process', minThreads: 1, maxThreads: 1 });
  const startup = (make: () => WorkerPool) => async () => {
    let pool: WorkerPool | undefined;
    const ms = await timeAsync(async () => {
      pool = make();
      await pool.run('echo', [0]);
    });
    await pool!.close();
    return ms;
  };
  const startupResult = await runScenario({
    id: 'pool-process-startup',
    title: 'Start-up of one worker: from new WorkerPool() to the first answer',
    unit: 'ms',
    rounds: quick ? 2 : 9,
    warmup: 1,
    contenders: [
      {
        name: 'raw child_process.fork (hand-written)',
        kind: 'floor',
        async sample() {
          let raw: RawProcessPool | undefined;
          const ms = await timeAsync(async () => {
            raw = new RawProcessPool(1);
            await raw.run(0, 0);
          });
          await raw!.close();
          return ms;
        },
      },
      { name: "weft, runtime: 'process'", kind: 'weft', sample: startup(processPool) },
      { name: "weft, runtime: 'thread'", kind: 'baseline', sample: startup(thread) },
    ],
  });
  const workers = 4;
  // Memory a worker adds: a child process's own resident set; a thread's share of the growth of this process.
  const memoryResult = await runScenario({
    id: 'pool-process-memory',
    title: `Resident memory per idle worker (${workers} workers, after one task each)`,
    unit: 'MB',
    rounds: quick ? 1 : 5,
    warmup: 1,
    contenders: [
      {
        name: 'raw child_process.fork (hand-written)',
        kind: 'floor',
        async sample() {
          const raw = new RawProcessPool(workers);
          const sizes = await Promise.all(Array.from({ length: workers }, () => raw.run(2, 0)));
          await raw.close();
          return median(sizes as number[]) / MB;
        },
      },
      {
        name: "weft, runtime: 'process'",
        kind: 'weft',
        async sample() {
          const pool = new WorkerPool({
            worker: workerFile('weft.mjs'),
            runtime: 'process',
            minThreads: workers,
            maxThreads: workers,
            idleTimeout: Infinity,
          });
          await Promise.all(Array.from({ length: workers * 4 }, () => pool.run('echo', [0])));
          while (pool.stats.threads < workers) await pool.run('echo', [0]);
          // One task per worker (each is idle when asked, so the pool spreads them).
          const sizes: number[] = [];
          for (let i = 0; i < workers * 3 && sizes.length < workers; i++)
            sizes.push(await pool.run<number>('rss'));
          await pool.close();
          return median(sizes) / MB;
        },
      },
      {
        name: "weft, runtime: 'thread'",
        kind: 'baseline',
        async sample() {
          collectGarbage();
          const before = process.memoryUsage().rss;
          const pool = new WorkerPool({
            worker: workerFile('weft.mjs'),
            minThreads: workers,
            maxThreads: workers,
            idleTimeout: Infinity,
          });
          await Promise.all(Array.from({ length: workers * 4 }, () => pool.run('echo', [0])));
          while (pool.stats.threads < workers) await pool.run('echo', [0]);
          collectGarbage();
          const grown = process.memoryUsage().rss - before;
          await pool.close();
          return grown / workers / MB;
        },
      },
    ],
  });
  return [startupResult, memoryResult];
}

const suite: Suite = {
  name: 'pool-process',
  title: "weftjs/pool: child processes (runtime: 'process')",
  description:
    'Every implementation runs two child processes, started before measuring, with its default options (tinypool ' +
    "`runtime: 'child_process'`, workerpool `workerType: 'process'`). The floor is raw `child_process.fork` with " +
    "`serialization: 'advanced'`: tasks spread round-robin, one IPC message each way per task, a promise per task, " +
    'nothing else. weft batches small tasks into one IPC message per worker and pipelines them, as it does for ' +
    'threads; weft on two worker threads runs beside them for comparison. Latency awaits one task at a time; speedup ' +
    "runs CPU-bound tasks of about 20 ms (2 processes: at most 2x). The last two tables put weft's two runtimes side by side: start-up of one worker (a process loads a whole " +
    'Node.js; a thread shares the running one), and resident memory per idle worker (a child process: its own RSS, ' +
    'shared library pages included; a thread: the growth of the RSS of the process that runs it).',
  async run({ quick, log }) {
    const all = runners();
    const results: ScenarioResult[] = [];
    try {
      await Promise.all(
        all.map((r) => Promise.all(Array.from({ length: PROCESSES * 4 }, (_, i) => r.echo(i)))),
      );
      log('  pool-process: throughput');
      results.push(await throughput(all, NAMES, quick));
      log('  pool-process: latency');
      results.push(...(await latency(all, NAMES, quick)));
      log('  pool-process: speedup');
      results.push(await speedup(all, NAMES, quick));
    } finally {
      await Promise.all(all.map((r) => r.close()));
    }
    log('  pool-process: start-up and memory');
    results.push(...(await workerCosts(quick)));
    return results;
  },
};

export default suite;
