// Realistic A/B of contended weftjs/sync after quiet spells: a busy server that runs a batch job now and then.
//
// Run (from the repo root, after `npm run build`; build the other side with build-variant.sh):
//   sh bench/realistic/build-variant.sh <ref> /tmp/weft-ref
//   node --max-old-space-size=48 bench/realistic/batch-bursts.mjs ref=/tmp/weft-ref branch=.
// Env: SECONDS_TOTAL (default 40), SEGMENT_MS (default 4000), IDLE_MS (time between batches, default 250),
// CACHE_SIZE (retained responses, default 15000).
//
// The main thread handles "requests" all the time (JSON parse/stringify into a bounded cache), so V8 runs
// scavenges and mark-compacts of its own; no forced GC, no warm-up. Every IDLE_MS (jittered) a batch job runs:
// 200-2000 tasks at once through one long-lived primitive, each doing one `await` inside, as a periodic cache
// refresh or export does. The batches rotate over three workloads: `Mutex.lock`/`release`, `Mutex.run`, and a
// `limit(8)` limiter. Between two batches of the same workload several full GCs happen (counted from
// PerformanceObserver 'gc' entries), which is what separates this from sync-bursts.mjs, where bursts come every
// 1-20 ms. Both variants live in one process and alternate by segment. Reports the wall time per task (batch time
// / tasks, µs) per workload: p50 and p90 over batches, median over segments, and the ratio second/first.
//
// Env WORKLOADS picks some of lock,run,limit; CPU=1 reports CPU time (background compiler and GC threads included)
// instead of wall time.
//
// What it showed (2026-12-02, Node 20, 2 cores, 4-5 natural major GCs between batches, 9-14 segments per variant).
// The question was whether permits copied from one module-level object (src/internal/permit.ts) pay in an app, or
// only in the forced-GC benchmark, where they take a 10k-task burst from 3.5x to 1.1x the floor. Against the same
// build with a class permit, `lock` batches took 0.78x the CPU at p50 (p90 1.17x) and 0.95x the wall time at p50
// (p90 0.78x), while `run` batches, which hold no permit object, moved 0.91-1.10x: a modest gain, at the edge of this
// harness's noise (GC pauses of a 48 MB heap dominate its batch times). Against the build before this change (class
// waiters, tasks and permits), p50 after/before was 0.52x (lock), 0.72x (run) and 1.26x (limit) in one run and 1.11x,
// 1.39x and 1.28x in the other: this harness cannot tell the two apart. The synthetic suite, warmed up and without
// forced GCs, shows no regression (limit 0.88-0.93x the floor, Semaphore.run 0.81-0.99x, was 1.01-1.22x).
import {
  alternate,
  fmt,
  gcCounter,
  handleRequests,
  median,
  quantile,
  rng,
  sleep,
  variants,
} from './harness.mjs';

const TOTAL_MS = Number(process.env.SECONDS_TOTAL ?? 40) * 1000;
const SEGMENT_MS = Number(process.env.SEGMENT_MS ?? 4000);
const IDLE_MS = Number(process.env.IDLE_MS ?? 250);
/** CPU=1: CPU time of the process (background compiler and GC threads included) instead of wall time. */
const CPU = process.env.CPU === '1';
const cpuMs = (usage) => (usage.user + usage.system) / 1000;
const WORKLOADS = (process.env.WORKLOADS ?? 'lock,run,limit').split(',');

const sides = variants(process.argv.slice(2), 'sync');
for (const side of sides) {
  const { Mutex, limit } = await import(side.url);
  side.mutex = new Mutex();
  side.limiter = limit(8);
}

const gc = gcCounter();

function batch(side, workload, n) {
  const jobs = new Array(n);
  for (let i = 0; i < n; i++) {
    if (workload === 'lock') {
      jobs[i] = (async () => {
        const permit = await side.mutex.lock();
        await Promise.resolve();
        permit.release();
      })();
    } else if (workload === 'run') {
      jobs[i] = side.mutex.run(async () => {
        await Promise.resolve();
      });
    } else {
      jobs[i] = side.limiter(async () => {
        await Promise.resolve();
      });
    }
  }
  return Promise.all(jobs);
}

/** Handles requests for about `ms`, yielding to the event loop between slices as a server does. */
async function serve(ms, random) {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    handleRequests(20 + Math.floor(random() * 40), random);
    await sleep(1);
  }
}

async function segment(side, random) {
  const perOp = Object.fromEntries(WORKLOADS.map((w) => [w, []]));
  const majorBetween = [];
  const end = performance.now() + SEGMENT_MS;
  let turn = 0;
  while (performance.now() < end) {
    const majorBefore = gc.counts.major;
    await serve(IDLE_MS * (0.5 + random()), random);
    majorBetween.push(gc.counts.major - majorBefore);
    const workload = WORKLOADS[turn++ % WORKLOADS.length];
    const n = 200 + Math.floor(random() * 1801);
    const start = CPU ? process.cpuUsage() : performance.now();
    await batch(side, workload, n);
    const spent = CPU ? cpuMs(process.cpuUsage(start)) : performance.now() - start;
    perOp[workload].push((spent * 1000) / n);
  }
  const result = { majorBetween: median(majorBetween) };
  for (const w of WORKLOADS) {
    const sorted = perOp[w].sort((a, b) => a - b);
    result[`${w}P50`] = quantile(sorted, 0.5);
    result[`${w}P90`] = quantile(sorted, 0.9);
  }
  return result;
}

const random = rng(11);
const pairs = Math.max(2, Math.round(TOTAL_MS / SEGMENT_MS / 2));
const results = await alternate(sides, pairs, (side) => segment(side, random));
gc.stop();

const keys = WORKLOADS.flatMap((w) => [`${w}P50`, `${w}P90`]);
const summary = sides.map((side, i) => {
  const s = { label: side.label, majorBetween: median(results[i].map((x) => x.majorBetween)) };
  for (const k of keys) s[k] = median(results[i].map((x) => x[k]));
  return s;
});
console.log(
  `µs per task (batch time / tasks), median over ${pairs - 1} segments of ${SEGMENT_MS} ms per variant; batches every ~${IDLE_MS} ms`,
);
console.log(`variant\t${keys.join('\t')}\tmajor GCs between batches`);
for (const s of summary)
  console.log(`${s.label}\t${keys.map((k) => fmt(s[k])).join('\t')}\t${s.majorBetween}`);
const [a, b] = summary;
console.log(`ratio ${b.label}/${a.label}\t${keys.map((k) => `${k} ${fmt(b[k] / a[k], 2)}x`).join('\t')}`);
