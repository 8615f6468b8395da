// Realistic A/B of WorkerPool round-trip latency: an HTTP-server-like main thread, no forced GC, no warm-up.
//
// Run (from the repo root, after `npm run build`; build the other side with build-variant.sh):
//   sh bench/realistic/build-variant.sh main /tmp/weft-main
//   node --max-old-space-size=48 bench/realistic/pool-bursts.mjs main=/tmp/weft-main branch=.
// Env: SECONDS_TOTAL (default 20), SEGMENT_MS (default 1000), CACHE_SIZE (retained responses, default 15000),
// GARBAGE (multiplies the 5-45 requests handled between bursts; default 1: 10-25 full GCs a second at 48 MB).
// Control: FORCE_GC=1 (with node --expose-gc) adds a forced full GC before each burst, as the synthetic suite
// does, to check that this harness sees the effect the synthetic benchmark reports.
//
// Both variants' pools (2 threads each, each with its own dist and worker file) live in one process. Time is cut
// into segments that alternate between them. In a segment, bursts of 1-50 `pool.run('echo', [i])` calls are sent
// at Poisson-ish gaps (1-20 ms); between bursts the main thread handles "requests" (JSON parse/stringify of
// request-sized objects into a bounded cache), so V8 runs scavenges and mark-compacts of its own (counted from
// PerformanceObserver 'gc' entries). Reports the per-task round trip p50/p99/p99.9 per variant: median over
// segments, and the ratio second/first. The first pair of segments (worker start-up) is left out.
//
// What it showed (2026-12-02, Node 20, 2 loaded cores; main = with the engine's `lastSettled` task kept alive,
// branch = without): no gain from keeping it. Without/with, p99 0.84-1.17x over 6 runs at 48 MB (median about
// 0.9x; 170-320 natural major GCs per run), 0.77x and 1.52x with CACHE_SIZE=6000 (a full GC every 1-2 s); p50
// swings 0.25-1.5x with the load of the machine. FORCE_GC=1 shows the synthetic effect (p99 1.24-1.98x).
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import {
  alternate,
  fmt,
  gap,
  gcCounter,
  handleRequests,
  median,
  quantile,
  rng,
  sleep,
  variants,
} from './harness.mjs';

const TOTAL_MS = Number(process.env.SECONDS_TOTAL ?? 20) * 1000;
const SEGMENT_MS = Number(process.env.SEGMENT_MS ?? 1000);
const FORCE_GC = process.env.FORCE_GC === '1';
const GARBAGE = Number(process.env.GARBAGE ?? 1);

const sides = variants(process.argv.slice(2), 'pool');
for (const side of sides) {
  const { WorkerPool } = await import(side.url);
  const root = resolve(dirname(fileURLToPath(side.url)), '..', '..');
  side.pool = new WorkerPool({
    worker: resolve(root, 'bench/workers/weft.mjs'),
    minThreads: 2,
    maxThreads: 2,
  });
}

const gc = gcCounter();

async function segment(side, random) {
  const latencies = [];
  const majorBefore = gc.counts.major;
  const minorBefore = gc.counts.minor;
  const end = performance.now() + SEGMENT_MS;
  let value = 0;
  while (performance.now() < end) {
    handleRequests(GARBAGE * (5 + Math.floor(random() * 40)), random);
    await sleep(gap(random));
    if (FORCE_GC) globalThis.gc();
    const size = 1 + Math.floor(random() * 50);
    const trips = new Array(size);
    for (let i = 0; i < size; i++) {
      const start = performance.now();
      trips[i] = side.pool.run('echo', [value++]).then(() => latencies.push(performance.now() - start));
    }
    await Promise.all(trips);
  }
  latencies.sort((a, b) => a - b);
  return {
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    p999: quantile(latencies, 0.999),
    tasks: latencies.length,
    major: gc.counts.major - majorBefore,
    minor: gc.counts.minor - minorBefore,
  };
}

const random = rng(42);
const pairs = Math.max(2, Math.round(TOTAL_MS / SEGMENT_MS / 2));
const results = await alternate(sides, pairs, (side) => segment(side, random));
sides.forEach((side, i) => (side.segments = results[i]));
gc.stop();
for (const side of sides) await side.pool.close();

const summary = sides.map((side) => {
  const pick = (k) => median(side.segments.map((s) => s[k]));
  const sum = (k) => side.segments.reduce((a, s) => a + s[k], 0);
  return {
    label: side.label,
    p50: pick('p50'),
    p99: pick('p99'),
    p999: pick('p999'),
    tasks: sum('tasks'),
    major: sum('major'),
    minor: sum('minor'),
  };
});
console.log(
  `pool round trip (ms), median over ${pairs - 1} segments of ${SEGMENT_MS} ms per variant, alternating`,
);
console.log('variant\tp50\tp99\tp99.9\ttasks\tmajor GCs\tminor GCs');
for (const s of summary)
  console.log(`${s.label}\t${fmt(s.p50)}\t${fmt(s.p99)}\t${fmt(s.p999)}\t${s.tasks}\t${s.major}\t${s.minor}`);
const [a, b] = summary;
console.log(
  `ratio ${b.label}/${a.label}\tp50 ${fmt(b.p50 / a.p50, 2)}x\tp99 ${fmt(b.p99 / a.p99, 2)}x\tp99.9 ${fmt(b.p999 / a.p999, 2)}x`,
);
