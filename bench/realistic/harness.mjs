// Shared pieces of the realistic A/B workloads in this folder (see the header of each script).
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** `label=dir` arguments: each dir is a weft checkout with a built `dist/` (see build-variant.sh). */
export function variants(argv, subpath) {
  const list = argv.map((arg) => {
    const [label, dir] = arg.includes('=') ? arg.split('=', 2) : [arg, arg];
    return { label, url: pathToFileURL(resolve(dir, 'dist', subpath, 'index.js')).href };
  });
  if (list.length !== 2) throw new TypeError(`expected two label=dir arguments, received ${argv.length}`);
  return list;
}

/** Counts V8's own GCs by kind, to report that full GCs did happen during a segment. */
export function gcCounter() {
  const counts = { minor: 0, major: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) counts.major++;
      else counts.minor++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { counts, stop: () => observer.disconnect() };
}

/** Deterministic PRNG so both variants see the same kind of traffic. */
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Poisson-ish gap between bursts: exponential with mean `mean` ms, clamped to [lo, hi]. */
export function gap(random, mean = 8, lo = 1, hi = 20) {
  return Math.min(hi, Math.max(lo, -Math.log(1 - random()) * mean));
}

const CACHE_SIZE = Number(process.env.CACHE_SIZE ?? 15_000);
const cache = new Map();
let nextId = 0;

/**
 * What a request handler allocates: a request-sized object parsed from JSON, a response built and serialised, and
 * a bounded cache of recent responses (old-generation churn, so V8 runs mark-compacts on its own).
 */
export function handleRequests(count, random) {
  let bytes = 0;
  for (let r = 0; r < count; r++) {
    const id = nextId++;
    const items = [];
    const n = 3 + Math.floor(random() * 12);
    for (let i = 0; i < n; i++) {
      items.push({
        sku: `SKU-${(id * 31 + i) % 9973}`,
        qty: 1 + (i % 4),
        price: Math.round(random() * 10_000) / 100,
      });
    }
    const body = JSON.stringify({
      id,
      user: { name: `user${id % 1000}`, email: `user${id % 1000}@example.com`, roles: ['buyer', 'member'] },
      headers: {
        'content-type': 'application/json',
        'x-request-id': `req-${id.toString(36)}`,
        accept: '*/*',
      },
      items,
    });
    const request = JSON.parse(body);
    const total = request.items.reduce((sum, item) => sum + item.qty * item.price, 0);
    const response = JSON.stringify({
      id: request.id,
      total,
      lines: request.items.map((i) => `${i.sku}x${i.qty}`),
    });
    bytes += response.length;
    cache.set(id, { response, request });
    if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value);
  }
  return bytes;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const fmt = (x, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

/**
 * Runs `segment(side)` for each side in turn, `pairs` times, swapping which side goes first every pair so neither
 * always follows the other's garbage. The first pair (start-up) is not kept. Returns each side's results.
 */
export async function alternate(sides, pairs, segment) {
  const results = sides.map(() => []);
  for (let pair = 0; pair < pairs; pair++) {
    const order = pair % 2 === 0 ? [0, 1] : [1, 0];
    for (const i of order) {
      const result = await segment(sides[i]);
      if (pair > 0) results[i].push(result);
    }
  }
  return results;
}
