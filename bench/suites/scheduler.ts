/**
 * weftjs/scheduler: CPU work kept on the main thread without freezing it. The same ~1.5 s of work, split into ~10 us
 * units, runs as a blocking loop, one setImmediate per unit, a hand-written 5 ms time slicer (the floor), an `await`
 * per unit, and on the weft Scheduler; each run reports its wall-clock time and the event-loop delay it caused
 * (perf_hooks.monitorEventLoopDelay, 1 ms resolution, p99). A second pair of scenarios measures the cost of one
 * yield point against a raw generator loop.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Scheduler } from 'weftjs/scheduler';
import { runScenario, type Contender, type ContenderKind, type ScenarioResult } from '../lib/harness.js';
import type { Suite } from '../lib/suite.js';

/** An already-resolved promise: awaiting it costs one microtask turn, as `await null` does. */
const RESOLVED: Promise<void> = Promise.resolve();

/** One unit of CPU work: `rounds` steps of an integer hash; returns a checksum so it cannot be optimised away. */
function unit(seed: number, rounds: number): number {
  let h = seed | 0;
  for (let i = 0; i < rounds; i++) {
    h ^= i;
    h = Math.imul(h, 0x5bd1e995);
    h ^= h >>> 15;
  }
  return h >>> 0;
}

/** The hash rounds that take about `us` microseconds here, measured once the unit is optimised. */
function calibrate(us: number): number {
  let sink = 0;
  for (let i = 0; i < 20_000; i++) sink ^= unit(i, 500);
  const rounds = 20_000;
  let units = 0;
  const start = performance.now();
  while (performance.now() - start < 50) {
    sink ^= unit(units, rounds);
    units++;
  }
  const perUnitUs = ((performance.now() - start) * 1000) / units;
  if (sink === 0.5) console.log(sink); // keeps the warm-up from being optimised away
  return Math.max(1, Math.round((rounds * us) / perUnitUs));
}

interface Workload {
  units: number;
  rounds: number;
}

/** The ways of running the workload; each resolves with the checksum. */
const runners: { name: string; kind: ContenderKind; run: (w: Workload) => number | Promise<number> }[] = [
  {
    name: 'blocking loop',
    kind: 'baseline',
    run({ units, rounds }) {
      let sum = 0;
      for (let i = 0; i < units; i++) sum = (sum + unit(i, rounds)) >>> 0;
      return sum;
    },
  },
  {
    name: 'setImmediate per unit',
    kind: 'baseline',
    run({ units, rounds }) {
      return new Promise<number>((resolve) => {
        let sum = 0;
        let i = 0;
        const step = (): void => {
          sum = (sum + unit(i, rounds)) >>> 0;
          if (++i < units) setImmediate(step);
          else resolve(sum);
        };
        setImmediate(step);
      });
    },
  },
  {
    name: 'hand-written 5 ms slicer',
    kind: 'floor',
    run({ units, rounds }) {
      return new Promise<number>((resolve) => {
        let sum = 0;
        let i = 0;
        const slice = (): void => {
          const end = performance.now() + 5;
          while (i < units) {
            sum = (sum + unit(i, rounds)) >>> 0;
            i++;
            if (performance.now() >= end) {
              setImmediate(slice);
              return;
            }
          }
          resolve(sum);
        };
        setImmediate(slice);
      });
    },
  },
  {
    name: 'await per unit',
    kind: 'baseline',
    async run({ units, rounds }) {
      let sum = 0;
      for (let i = 0; i < units; i++) {
        sum = (sum + unit(i, rounds)) >>> 0;
        await RESOLVED;
      }
      return sum;
    },
  },
  {
    name: 'weft Scheduler, generator (bare yield)',
    kind: 'weft',
    async run({ units, rounds }) {
      await using scheduler = new Scheduler({ sliceMs: 5 });
      return await scheduler.spawn(function* () {
        let sum = 0;
        for (let i = 0; i < units; i++) {
          sum = (sum + unit(i, rounds)) >>> 0;
          yield;
        }
        return sum;
      });
    },
  },
  {
    name: 'weft Scheduler, async (await ctx.yield())',
    kind: 'weft',
    async run({ units, rounds }) {
      await using scheduler = new Scheduler({ sliceMs: 5 });
      return await scheduler.spawn(async (ctx) => {
        let sum = 0;
        for (let i = 0; i < units; i++) {
          sum = (sum + unit(i, rounds)) >>> 0;
          await ctx.yield();
        }
        return sum;
      });
    },
  },
];

interface Run {
  ms: number;
  p99: number;
}

/** Runs `fn` under an event-loop delay monitor: its wall-clock time and the p99 delay (ms). */
async function monitored(
  fn: () => number | Promise<number>,
  expected: { sum: number | undefined },
): Promise<Run> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  await new Promise((resolve) => setTimeout(resolve, 2)); // the monitor's timer is armed
  const start = performance.now();
  const sum = await fn();
  const ms = performance.now() - start;
  // One more turn, so a run that blocked until its very end still has its delay recorded.
  await new Promise((resolve) => setTimeout(resolve, 2));
  histogram.disable();
  if (expected.sum === undefined) expected.sum = sum;
  else if (sum !== expected.sum) throw new Error(`checksum mismatch: ${sum} != ${expected.sum}`);
  return { ms, p99: histogram.percentile(99) / 1e6 };
}

async function cpuScenarios(quick: boolean, log: (line: string) => void): Promise<ScenarioResult[]> {
  const rounds = calibrate(10);
  const units = quick ? 15_000 : 150_000;
  const workload: Workload = { units, rounds };
  const expected = { sum: undefined as number | undefined };
  // Each run records both figures; the delay scenario replays the delays of the very same runs, in order.
  const delays = runners.map(() => [] as number[]);
  const time = await runScenario(
    {
      id: 'scheduler-cpu-time',
      title: `~${quick ? '0.15' : '1.5'} s of CPU work in ${units.toLocaleString('en-US')} units of ~10 us: total time`,
      unit: 'ms',
      target: 'weft generator <= 1.03x the hand-written 5 ms slicer',
      warmup: quick ? 0 : 1,
      rounds: quick ? 1 : 5,
      contenders: runners.map((runner, index): Contender => ({
        name: runner.name,
        kind: runner.kind,
        async sample() {
          const run = await monitored(() => runner.run(workload), expected);
          delays[index]!.push(run.p99);
          return run.ms;
        },
      })),
    },
    log,
  );
  const next = delays.map(() => 0);
  const delay = await runScenario(
    {
      id: 'scheduler-cpu-delay',
      title: 'The same runs: event-loop delay p99 (how late a 1 ms timer fired)',
      unit: 'ms',
      target: 'weft p99 <= 6 ms with sliceMs 5',
      warmup: quick ? 0 : 1,
      rounds: quick ? 1 : 5,
      contenders: runners.map((runner, index): Contender => ({
        name: runner.name,
        kind: runner.kind,
        sample: () => delays[index]![next[index]!++]!,
      })),
    },
    log,
  );
  return [time, delay];
}

function* bareYields(n: number): Generator<undefined, number> {
  let i = 0;
  for (; i < n; i++) yield;
  return i;
}

async function yieldScenario(quick: boolean, log: (line: string) => void): Promise<ScenarioResult> {
  const n = quick ? 100_000 : 1_000_000;
  const scheduler = new Scheduler({ sliceMs: 5 });
  return runScenario(
    {
      id: 'scheduler-yield',
      title: `${n.toLocaleString('en-US')} bare yield points of one task`,
      unit: 'ms',
      target: 'weft generator task <= 2x the raw generator loop',
      warmup: quick ? 1 : 3,
      rounds: quick ? 3 : 15,
      contenders: [
        {
          name: 'raw generator loop',
          kind: 'floor',
          sample() {
            const start = performance.now();
            const gen = bareYields(n);
            let step = gen.next();
            while (!step.done) step = gen.next();
            if (step.value !== n) throw new Error('lost yields');
            return performance.now() - start;
          },
        },
        {
          name: 'weft generator task (bare yield)',
          kind: 'weft',
          async sample() {
            const start = performance.now();
            const count = await scheduler.spawn(() => bareYields(n));
            if (count !== n) throw new Error('lost yields');
            return performance.now() - start;
          },
        },
        {
          name: 'weft async task (await ctx.yield())',
          kind: 'weft',
          async sample() {
            const start = performance.now();
            await scheduler.spawn(async (ctx) => {
              for (let i = 0; i < n; i++) await ctx.yield();
            });
            return performance.now() - start;
          },
        },
        {
          name: 'async loop, one await per step',
          kind: 'baseline',
          async sample() {
            const start = performance.now();
            for (let i = 0; i < n; i++) await RESOLVED;
            return performance.now() - start;
          },
        },
      ],
    },
    log,
  );
}

const suite: Suite = {
  name: 'scheduler',
  title: 'weftjs/scheduler: CPU work without freezing the event loop',
  description:
    'The same ~1.5 s of CPU work, split into units of ~10 us, run five ways in one process (alternating, medians of ' +
    'five runs): a blocking loop, one `setImmediate` per unit, a hand-written time slicer that checks the clock ' +
    'after every unit and yields through `setImmediate` every 5 ms (the floor), an `await` per unit, and the weft ' +
    '`Scheduler` (`sliceMs: 5`) with a yield point after every unit, as a generator and as an async function. The ' +
    'first table is the total time; the second, from the same runs, is the p99 event-loop delay measured with ' +
    '`perf_hooks.monitorEventLoopDelay` (1 ms resolution): how late a timer fires while the work runs. A blocking ' +
    'loop or an `await` per unit serves no timer until the work ends (its delay is the whole run); a macrotask per ' +
    'unit is responsive but slow. The last table is the cost of a yield point: one task passing 1M bare yields, ' +
    'against the same generator driven by a raw `next()` loop.',
  async run({ quick, log }) {
    const cpu = await cpuScenarios(quick, log);
    return [...cpu, await yieldScenario(quick, log)];
  },
};

export default suite;
