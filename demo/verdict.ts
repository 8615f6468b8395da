/**
 * Turns the demo's measurements into the verdicts it prints. Every sentence is derived from the numbers, so the
 * teaching can never contradict what was just measured (tests/demo.test.ts checks that too).
 */
import type { DemoResult, Job, Measurement, Model } from './measure.js';

export interface Verdict {
  job: Job;
  /** The model that finished the job fastest. */
  fastest: Model;
  /** How many times faster the fastest model was than the slowest. */
  speedup: number;
  text: string;
}

function pick(result: DemoResult, job: Job, model: Model): Measurement {
  const found = result.measurements.find((m) => m.job === job && m.model === model);
  if (found === undefined) throw new Error(`demo: no ${job} measurement for ${model}`);
  return found;
}

function fastest(result: DemoResult, job: Job): Measurement {
  return result.measurements.filter((m) => m.job === job).reduce((a, b) => (b.ms < a.ms ? b : a));
}

const ms = (value: number) => `${Math.round(value).toLocaleString('en-US')} ms`;
const times = (value: number) => `${value.toFixed(1)}x`;

export function verdicts(result: DemoResult): Verdict[] {
  const { settings } = result;
  const sequential = pick(result, 'io', 'sequential');
  const concurrent = pick(result, 'io', 'concurrent');
  const ioPool = pick(result, 'io', 'pool');
  const ioBest = fastest(result, 'io');
  const ioSpeedup = sequential.ms / concurrent.ms;
  const poolVsConcurrent = ioPool.ms / concurrent.ms;
  const ioText =
    `I/O-bound (${settings.requests} requests, ${settings.latencyMs} ms each): asynchrony wins. Overlapping the waits ` +
    `on one thread with limit(${settings.ioConcurrency}) took ${ms(concurrent.ms)}, ${times(ioSpeedup)} faster than ` +
    `awaiting them one by one. ` +
    (poolVsConcurrent >= 1.1
      ? `Worker threads made it slower (${ms(ioPool.ms)}): the work is waiting, not computing, so extra cores have nothing to do and only add message overhead.`
      : `Worker threads did no better (${ms(ioPool.ms)}) while costing ${settings.threads} threads and ${ms(result.poolStartupMs)} of start-up: the work is waiting, not computing.`);

  const inline = pick(result, 'cpu', 'inline');
  const cooperative = pick(result, 'cpu', 'cooperative');
  const cpuPool = pick(result, 'cpu', 'pool');
  const cpuBest = fastest(result, 'cpu');
  const poolSpeedup = inline.ms / cpuPool.ms;
  const cpuText =
    (cpuBest.model === 'pool'
      ? `CPU-bound: parallelism wins. The pool finished in ${ms(cpuPool.ms)}, ${times(poolSpeedup)} faster than inline on ${result.cores} cores. `
      : `CPU-bound: on ${result.cores} core(s) the pool (${ms(cpuPool.ms)}) did not beat inline (${ms(inline.ms)}); parallelism needs free cores. `) +
    `Inline work froze the event loop for up to ${ms(inline.loopDelayMax)} (no timer, request or UI update in between); ` +
    `the cooperative Scheduler used about the same CPU time (${ms(cooperative.ms)}) but kept the loop delay at p99 ` +
    `${ms(cooperative.loopDelayP99)}. Use the pool for throughput on spare cores, and the Scheduler when the work must ` +
    `stay on this thread but the app must stay responsive.`;

  const out: Verdict[] = [
    { job: 'io', fastest: ioBest.model, speedup: sequential.ms / ioBest.ms, text: ioText },
    { job: 'cpu', fastest: cpuBest.model, speedup: inline.ms / cpuBest.ms, text: cpuText },
  ];
  const cluster = result.measurements.find((m) => m.job === 'cluster');
  if (cluster !== undefined) out.push(clusterVerdict(result, cluster, inline, cpuPool));
  return out;
}

/** What crossing processes cost here, and when it pays. */
function clusterVerdict(
  result: DemoResult,
  cluster: Measurement,
  inline: Measurement,
  pool: Measurement,
): Verdict {
  const chunks = result.settings.threads * 8;
  const extra = cluster.ms - pool.ms;
  const speedup = inline.ms / cluster.ms;
  const first =
    speedup >= 1.2
      ? `Across processes: 2 consumer processes fed through a RedisChannel finished the CPU job in ${ms(cluster.ms)}, ${times(speedup)} faster than inline. `
      : `Across processes: 2 consumer processes fed through a RedisChannel took ${ms(cluster.ms)}, no faster than inline (${ms(inline.ms)}) on ${result.cores} core(s). `;
  const cost =
    extra > 0
      ? `Against the in-process pool (${ms(pool.ms)}) crossing processes cost ${ms(extra)} for ${chunks} jobs, about ${(extra / chunks).toFixed(1)} ms a job (a Redis round trip each way, encoding, and a process per core instead of a thread). `
      : `It kept up with the in-process pool (${ms(pool.ms)}): with ${chunks} jobs of ~${Math.round(cluster.ms / chunks)} ms the Redis round trips (well under a millisecond) disappear. `;
  const text =
    first +
    cost +
    `It pays when one machine's cores are not enough: add hosts running consumers, keep each job long next to a ` +
    `round trip (milliseconds, not microseconds), and let each host run its share on a local WorkerPool.`;
  return { job: 'cluster', fastest: cluster.model, speedup, text };
}
