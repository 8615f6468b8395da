/**
 * The scenarios the pool suites share (threads in suites/pool.ts, processes in suites/pool-process.ts): tiny tasks
 * submitted at once (throughput), sequential round trips (p50 and p99 latency), and CPU-bound tasks (speedup over
 * running them inline). Each suite names its scenarios and sets its targets.
 */
import {
  median,
  runScenario,
  timeAsync,
  type Contender,
  type ContenderKind,
  type ScenarioResult,
} from './harness.js';
import { burn } from '../workers/burn.mjs';

/** One pool under test, as every pool scenario drives it. */
export interface PoolRunner {
  name: string;
  kind: ContenderKind;
  echo(value: number): Promise<unknown>;
  burn(iterations: number): Promise<unknown>;
  close(): Promise<unknown>;
}

/** How a suite names a scenario: its id prefix (`pool`, `pool-process`), what the workers are, and its targets. */
export interface PoolScenarioNames {
  /** Prefix of the scenario ids, e.g. `pool` gives `pool-throughput`. */
  id: string;
  /** What the tasks run on, for titles, e.g. `2 threads`. */
  workers: string;
  /** What the round trips go to, for titles, e.g. ` to a child process` (empty for threads). */
  tripsTo?: string;
  targets: { throughput?: string; p50?: string; p99?: string; speedup?: string };
  /** Rounds of the latency scenario (round trips are cheap and noisy). */
  latencyRounds: number;
}

/** `{ target }` when there is one (the harness's `target` is optional, not `undefined`). */
function target(text: string | undefined): { target?: string } {
  return text === undefined ? {} : { target: text };
}

export function throughput(
  all: PoolRunner[],
  names: PoolScenarioNames,
  quick: boolean,
): Promise<ScenarioResult> {
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
    id: `${names.id}-throughput`,
    title: `${tasks.toLocaleString('en-US')} tiny echo tasks submitted at once, ${names.workers}`,
    unit: 'tasks/s',
    higherIsBetter: true,
    ...target(names.targets.throughput),
    rounds: quick ? 2 : 9,
    warmup: quick ? 1 : 2,
    contenders,
  });
}

/** p50 and p99 of sequential round trips, from the same runs: p99 is reported as its own table. */
export async function latency(
  all: PoolRunner[],
  names: PoolScenarioNames,
  quick: boolean,
): Promise<ScenarioResult[]> {
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
  const title = `${trips.toLocaleString('en-US')} sequential round trips${names.tripsTo ?? ''}`;
  const p50Result = await runScenario({
    id: `${names.id}-latency`,
    title: `${title}: p50 latency`,
    unit: 'us',
    ...target(names.targets.p50),
    rounds: quick ? 2 : names.latencyRounds,
    warmup: quick ? 1 : 2,
    contenders,
  });
  // The median over the rounds that count (warm-up rounds dropped).
  const rounds = p50Result.rows[0]!.samples.length;
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
  const floor = rows.find((row) => row.kind === 'floor')!.median;
  const p99Result: ScenarioResult = {
    id: `${names.id}-latency-p99`,
    title: `${title}: p99 latency`,
    unit: 'us',
    higherIsBetter: false,
    target: names.targets.p99,
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

export async function speedup(
  all: PoolRunner[],
  names: PoolScenarioNames,
  quick: boolean,
): Promise<ScenarioResult> {
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
    id: `${names.id}-speedup`,
    title: `${tasks} CPU-bound tasks of ~20 ms on ${names.workers}: speedup over running them inline`,
    unit: 'x inline',
    higherIsBetter: true,
    ...target(names.targets.speedup),
    rounds: quick ? 1 : 7,
    warmup: 1,
    contenders,
  });
}
