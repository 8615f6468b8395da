/**
 * Task timings kept in a log-linear histogram (like HdrHistogram): recording is O(1) with no allocation, and
 * percentiles come out within about 1.6 % of the true value.
 */

/**
 * Percentiles and mean of a duration, in milliseconds.
 *
 * @example
 * ```ts
 * import { WorkerPool, type TimeStats } from 'weftjs/pool';
 *
 * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
 * const run: TimeStats = pool.stats.runTime;
 * console.log(`p50 ${run.p50} ms, p99 ${run.p99} ms, mean ${run.mean} ms`);
 * ```
 */
export interface TimeStats {
  /** Median. */
  p50: number;
  /** 99th percentile. */
  p99: number;
  /** Arithmetic mean. */
  mean: number;
}

/**
 * A snapshot of a pool's state and history, from `WorkerPool.stats`.
 *
 * @example Logging load once a second
 * ```ts
 * import { WorkerPool } from 'weftjs/pool';
 *
 * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url) });
 * setInterval(() => {
 *   const { threads, busy, queued, utilization, runTime } = pool.stats;
 *   console.log({ threads, busy, queued, utilization, p99: runTime.p99 });
 * }, 1000).unref();
 * ```
 */
export interface PoolStats {
  /** Worker threads alive now (starting or ready). */
  threads: number;
  /** Threads running a task now. */
  busy: number;
  /** Accepted tasks that have not started yet. */
  queued: number;
  /** Tasks that resolved, since the pool was created. */
  completed: number;
  /** Accepted tasks that rejected for any reason (error, crash, abort, timeout, forced close). */
  failed: number;
  /** Workers that died without being asked to (uncaught error, `process.exit`, out of memory, failed start). */
  crashed: number;
  /** How long tasks ran in their worker (tasks that ran to an end: resolved or threw). */
  runTime: TimeStats;
  /** How long those tasks waited between `run()` and their start. */
  waitTime: TimeStats;
  /** Share of the pool's capacity spent running tasks since it was created: run time / (elapsed x maxThreads). */
  utilization: number;
}

const SUB_BITS = 6;
const SUB = 1 << SUB_BITS; // 64 linear sub-buckets per power of two
const MAX_EXPONENT = 31 - SUB_BITS; // values are microseconds; the top bucket holds ~35 minutes and up
const BUCKETS = SUB + MAX_EXPONENT * (SUB >> 1);

/** A histogram of durations; values are recorded in whole microseconds. */
export class Histogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sum = 0;

  record(ms: number): void {
    if (!(ms > 0)) ms = 0;
    this.count++;
    this.sum += ms;
    this.counts[bucketOf(Math.min(Math.round(ms * 1000), 0x7fffffff))]!++;
  }

  /** The value at quantile `q` (0..1), in ms; 0 when empty. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return midpointOf(i) / 1000;
    }
    return midpointOf(BUCKETS - 1) / 1000;
  }

  summary(): TimeStats {
    return {
      p50: this.quantile(0.5),
      p99: this.quantile(0.99),
      mean: this.count === 0 ? 0 : this.sum / this.count,
    };
  }
}

function bucketOf(us: number): number {
  if (us < SUB) return us;
  const exponent = 31 - Math.clz32(us) - (SUB_BITS - 1); // >= 1
  return SUB + (exponent - 1) * (SUB >> 1) + ((us >>> exponent) - (SUB >> 1));
}

function midpointOf(bucket: number): number {
  if (bucket < SUB) return bucket;
  const exponent = ((bucket - SUB) >> (SUB_BITS - 1)) + 1;
  const mantissa = ((bucket - SUB) & ((SUB >> 1) - 1)) + (SUB >> 1);
  return (mantissa << exponent) + (1 << (exponent - 1)) - 0.5;
}

/** A pool's counters and timings since it was created, from which {@link PoolStats} snapshots are made. */
export class PoolHistory {
  completed = 0;
  failed = 0;
  crashed = 0;
  private readonly runTime = new Histogram();
  private readonly waitTime = new Histogram();
  private readonly created = performance.now();

  /** A task ran to an end (resolved or threw) after `runMs` in its worker, `waitMs` after it was submitted. */
  recordRun(runMs: number, waitMs: number): void {
    this.runTime.record(runMs);
    this.waitTime.record(waitMs);
  }

  /** The snapshot, given what the pool holds now. */
  snapshot(threads: number, busy: number, queued: number, maxThreads: number): PoolStats {
    const capacity = (performance.now() - this.created) * maxThreads;
    return {
      threads,
      busy,
      queued,
      completed: this.completed,
      failed: this.failed,
      crashed: this.crashed,
      runTime: this.runTime.summary(),
      waitTime: this.waitTime.summary(),
      utilization: capacity > 0 ? Math.min(1, this.runTime.sum / capacity) : 0,
    };
  }
}
