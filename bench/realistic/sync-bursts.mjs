// Realistic A/B of contended Mutex cost: an app that locks per order id, no forced GC, no warm-up.
//
// Run (from the repo root, after `npm run build`; build the other side with build-variant.sh):
//   sh bench/realistic/build-variant.sh main /tmp/weft-main
//   node --max-old-space-size=48 bench/realistic/sync-bursts.mjs main=/tmp/weft-main branch=.
// Env: SECONDS_TOTAL (default 20), SEGMENT_MS (default 1000), CACHE_SIZE (retained responses, default 15000),
// GARBAGE (multiplies the 5-45 requests handled between bursts; default 1: 10-25 full GCs a second at 48 MB).
// Control: FORCE_GC=1 (with node --expose-gc) adds a forced full GC before each burst, as the synthetic suite
// does, to check that this harness sees the effect the synthetic benchmark reports.
//
// Both variants' `weftjs/sync` live in one process; time is cut into segments that alternate between them. In a
// segment, bursts arrive at Poisson-ish gaps (1-20 ms); between bursts the main thread handles "requests" (JSON
// parse/stringify into a bounded cache), so V8 runs scavenges and mark-compacts of its own (counted from
// PerformanceObserver 'gc' entries). Two workloads, in alternate bursts:
//   per-key:   a Mutex per order id, made on first use and dropped when its burst is over; 1-4 hot ids get
//              10-500 contenders each (lock, one await, release);
//   long-lived: one Mutex for the whole run, 10-500 contenders per burst.
// Reports the time per lock operation (burst time / contenders, in µs) per variant: p50 and p99 over bursts,
// median over segments, and the ratio second/first. The first pair of segments is left out.//
// What it showed (2026-12-02, Node 20, 2 loaded cores; main = with the module-level layout anchors that
// src/sync/permit-queue.ts had, branch = without): no gain from the anchors. Without/with, p50 per lock op:
// per-key 0.91-1.14x, long-lived 0.89-1.20x over 7 runs (p99s 0.61-1.34x, GC-pause noise), with 11-370 natural
// major GCs per 20 s run. With FORCE_GC=1 the same harness shows the synthetic effect (per-key p50 4.4-7.2x).
// Likely why: V8 keeps a map that optimized code uses alive for a few full GCs (--retain-maps-for-n-gc, default
// 2); with --retain-maps-for-n-gc=0 and no forced GC, per-key p50 went to 1.65x in one run.
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

const sides = variants(process.argv.slice(2), 'sync');
for (const side of sides) {
  const { Mutex } = await import(side.url);
  side.Mutex = Mutex;
  side.shared = new Mutex();
}

const gc = gcCounter();

async function contend(lock, n, work) {
  const jobs = new Array(n);
  for (let i = 0; i < n; i++) {
    jobs[i] = (async () => {
      const permit = await lock.lock();
      await Promise.resolve();
      work.done++;
      permit.release();
    })();
  }
  await Promise.all(jobs);
}

async function segment(side, random) {
  const perKey = [];
  const longLived = [];
  const majorBefore = gc.counts.major;
  const end = performance.now() + SEGMENT_MS;
  const work = { done: 0 };
  let burst = 0;
  while (performance.now() < end) {
    handleRequests(GARBAGE * (5 + Math.floor(random() * 40)), random);
    await sleep(gap(random));
    if (FORCE_GC) globalThis.gc();
    const keyed = burst++ % 2 === 0;
    const keys = keyed ? 1 + Math.floor(random() * 4) : 1;
    const contenders = 10 + Math.floor(random() * 491);
    const start = performance.now();
    if (keyed) {
      const locks = new Map();
      const bursts = [];
      for (let k = 0; k < keys; k++) {
        const orderId = `order-${Math.floor(random() * 1e6)}`;
        let lock = locks.get(orderId);
        if (lock === undefined) locks.set(orderId, (lock = new side.Mutex()));
        bursts.push(contend(lock, contenders, work));
      }
      await Promise.all(bursts);
    } else {
      await contend(side.shared, contenders, work);
    }
    const perOp = ((performance.now() - start) * 1000) / (contenders * keys);
    (keyed ? perKey : longLived).push(perOp);
  }
  perKey.sort((a, b) => a - b);
  longLived.sort((a, b) => a - b);
  return {
    keyP50: quantile(perKey, 0.5),
    keyP99: quantile(perKey, 0.99),
    longP50: quantile(longLived, 0.5),
    longP99: quantile(longLived, 0.99),
    ops: work.done,
    major: gc.counts.major - majorBefore,
  };
}

const random = rng(7);
const pairs = Math.max(2, Math.round(TOTAL_MS / SEGMENT_MS / 2));
const results = await alternate(sides, pairs, (side) => segment(side, random));
sides.forEach((side, i) => (side.segments = results[i]));
gc.stop();

const keys = ['keyP50', 'keyP99', 'longP50', 'longP99'];
const summary = sides.map((side) => {
  const s = { label: side.label };
  for (const k of keys) s[k] = median(side.segments.map((x) => x[k]));
  s.ops = side.segments.reduce((a, x) => a + x.ops, 0);
  s.major = side.segments.reduce((a, x) => a + x.major, 0);
  return s;
});
console.log(
  `µs per lock op (burst time / contenders), median over ${pairs - 1} segments of ${SEGMENT_MS} ms per variant`,
);
console.log('variant\tper-key p50\tper-key p99\tlong-lived p50\tlong-lived p99\tops\tmajor GCs');
for (const s of summary) {
  console.log(
    `${s.label}\t${fmt(s.keyP50)}\t${fmt(s.keyP99)}\t${fmt(s.longP50)}\t${fmt(s.longP99)}\t${s.ops}\t${s.major}`,
  );
}
const [a, b] = summary;
console.log(`ratio ${b.label}/${a.label}\t${keys.map((k) => `${k} ${fmt(b[k] / a[k], 2)}x`).join('\t')}`);
