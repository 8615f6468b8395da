/**
 * The demo's measurements: the same I/O-bound and CPU-bound jobs run under each model, timed, with the event-loop
 * delay each one caused. Pure measurement; printing and verdicts live in main.ts and verdict.ts.
 */
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { WorkerPool } from 'weftjs/pool';
import { Scheduler } from 'weftjs/scheduler';
import { limit } from 'weftjs/sync';
import { hasRedisServer, startCluster } from './cluster.js';
import { startSlowServer } from './server.js';
import { hashRounds } from './work.mjs';

export type Job = 'io' | 'cpu' | 'cluster';
export type Model = 'sequential' | 'concurrent' | 'inline' | 'cooperative' | 'pool' | 'redis';

export interface Measurement {
  job: Job;
  model: Model;
  label: string;
  /** Wall-clock time of the job, ms. */
  ms: number;
  /** Event-loop delay while the job ran: 99th percentile and maximum, ms. */
  loopDelayP99: number;
  loopDelayMax: number;
}

export interface DemoSettings {
  requests: number;
  latencyMs: number;
  ioConcurrency: number;
  cpuUnits: number;
  unitMs: number;
  threads: number;
}

export interface DemoResult {
  settings: DemoSettings;
  measurements: Measurement[];
  poolStartupMs: number;
  cores: number;
  /** Why the RedisChannel row is missing (`redis-server` not on the PATH), or `undefined` when it ran. */
  clusterSkipped?: string;
}

export interface Progress {
  /** A step started: its label, and how many units it has. */
  start(label: string, total: number): void;
  /** `done` units of the current step are finished. */
  advance(done: number): void;
  end(): void;
}

const silent: Progress = { start() {}, advance() {}, end() {} };

export function settingsFor(quick: boolean): DemoSettings {
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  return {
    requests: quick ? 40 : 120,
    latencyMs: 20,
    ioConcurrency: 16,
    cpuUnits: quick ? 400 : 1500,
    unitMs: 1,
    threads: Math.max(2, Math.min(cores, 4)),
  };
}

/** Finds the hash rounds that take about `unitMs` on this machine. */
function calibrate(unitMs: number): number {
  let rounds = 10_000;
  for (;;) {
    const start = performance.now();
    hashRounds(1, rounds);
    const elapsed = performance.now() - start;
    if (elapsed >= 20) return Math.max(1, Math.round((rounds * unitMs) / elapsed));
    rounds *= 2;
  }
}

async function measure(job: Job, model: Model, label: string, run: () => unknown): Promise<Measurement> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  // The histogram measures each delay against its previous tick, so let it tick before the job starts: a job that
  // blocks right away would otherwise go unrecorded.
  await new Promise((resolve) => setTimeout(resolve, 5));
  const start = performance.now();
  await run();
  const ms = performance.now() - start;
  // Let the histogram take one more sample, so a job that blocked until its very end is still recorded.
  await new Promise((resolve) => setTimeout(resolve, 5));
  histogram.disable();
  return {
    job,
    model,
    label,
    ms,
    loopDelayP99: histogram.percentile(99) / 1e6,
    loopDelayMax: histogram.max / 1e6,
  };
}

export async function runDemo(options: { quick: boolean; progress?: Progress }): Promise<DemoResult> {
  const settings = settingsFor(options.quick);
  const progress = options.progress ?? silent;
  const { requests, latencyMs, ioConcurrency, cpuUnits, threads } = settings;
  const rounds = calibrate(settings.unitMs);
  const measurements: Measurement[] = [];
  const server = await startSlowServer(latencyMs);
  const poolStart = performance.now();
  const pool = new WorkerPool({
    worker: new URL('./worker.mjs', import.meta.url),
    minThreads: threads,
    maxThreads: threads,
  });
  try {
    // Warm the pool up (threads started, code loaded) so start-up is reported on its own, not inside a job.
    await Promise.all(Array.from({ length: threads * 2 }, () => pool.run('cpuUnits', [0, 1, 1])));
    const poolStartupMs = performance.now() - poolStart;
    const fetchLength = async (url: string) => (await (await fetch(url)).text()).length;
    const urls = Array.from({ length: requests }, (_, i) => `${server.url}?item=${i}`);

    // I/O-bound: the same requests, one after another, concurrently through limit(), and on the pool.
    progress.start('I/O sequential', requests);
    measurements.push(
      await measure('io', 'sequential', 'sequential await', async () => {
        for (let i = 0; i < urls.length; i++) {
          await fetchLength(urls[i]!);
          progress.advance(i + 1);
        }
      }),
    );
    progress.start(`I/O limit(${ioConcurrency})`, requests);
    measurements.push(
      await measure('io', 'concurrent', `concurrent, limit(${ioConcurrency})`, async () => {
        const lim = limit(ioConcurrency);
        let done = 0;
        await Promise.all(urls.map((url) => lim(fetchLength, url).then(() => progress.advance(++done))));
      }),
    );
    progress.start(`I/O on ${threads} worker threads`, requests);
    measurements.push(
      await measure('io', 'pool', `worker pool, ${threads} threads`, async () => {
        let done = 0;
        await Promise.all(
          urls.map((url) => pool.run('fetchLength', [url]).then(() => progress.advance(++done))),
        );
      }),
    );

    // CPU-bound: the same hash units inline (blocking), cooperatively on the Scheduler, and on the pool.
    progress.start('CPU inline (the loop is blocked, so is this bar)', cpuUnits);
    measurements.push(
      await measure('cpu', 'inline', 'inline, blocking', () => {
        let sum = 0;
        for (let u = 0; u < cpuUnits; u++) sum = (sum + hashRounds(u, rounds)) >>> 0;
        progress.advance(cpuUnits);
        return sum;
      }),
    );
    progress.start('CPU cooperative Scheduler', cpuUnits);
    measurements.push(
      await measure('cpu', 'cooperative', 'cooperative Scheduler', async () => {
        await using scheduler = new Scheduler({ sliceMs: 5 });
        await scheduler.spawn(function* () {
          let sum = 0;
          for (let u = 0; u < cpuUnits; u++) {
            sum = (sum + hashRounds(u, rounds)) >>> 0;
            if ((u & 15) === 0) progress.advance(u);
            yield;
          }
          return sum;
        });
      }),
    );
    progress.start(`CPU on ${threads} worker threads`, cpuUnits);
    measurements.push(
      await measure('cpu', 'pool', `worker pool, ${threads} threads`, async () => {
        const chunks = threads * 8;
        const per = Math.ceil(cpuUnits / chunks);
        let done = 0;
        await Promise.all(
          Array.from({ length: chunks }, (_, c) => {
            const first = c * per;
            const count = Math.max(0, Math.min(per, cpuUnits - first));
            return pool.run('cpuUnits', [first, count, rounds]).then(() => progress.advance((done += count)));
          }),
        );
      }),
    );
    // The same CPU job spread over 2 processes through a RedisChannel, when a redis-server can be started.
    let clusterSkipped: string | undefined;
    if (hasRedisServer()) {
      const chunks = threads * 8;
      const cluster = await startCluster({
        cpuUnits,
        rounds,
        chunks,
        consumers: 2,
        advance: (done) => progress.advance(done),
      });
      try {
        progress.start('CPU over 2 processes through RedisChannel', cpuUnits);
        measurements.push(
          await measure('cluster', 'redis', `RedisChannel, 2 processes`, () => cluster.run()),
        );
      } finally {
        await cluster.stop();
      }
    } else {
      clusterSkipped =
        'redis-server is not on the PATH, so the RedisChannel row (the CPU job over 2 processes) was skipped.';
    }
    progress.end();
    const cores = os.availableParallelism?.() ?? os.cpus().length;
    return {
      settings,
      measurements,
      poolStartupMs,
      cores,
      ...(clusterSkipped === undefined ? {} : { clusterSkipped }),
    };
  } finally {
    await pool.close({ force: true });
    await server.close();
  }
}
