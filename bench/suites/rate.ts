/**
 * weftjs/sync RateLimiter against its peers (p-throttle, limiter, bottleneck, p-queue's interval/intervalCap, each
 * also in its strict mode where it has one) and a hand-written sliding window: how well each keeps "at most 50 in
 * any 200 ms" under a burst, how much of the limit it achieves, what it costs per call when the limit is far above
 * the load, and whether a process holding an idle limiter exits by itself.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import Bottleneck from 'bottleneck';
import { RateLimiter as TokenBucket } from 'limiter';
import pThrottle from 'p-throttle';
import PQueue from 'p-queue';
import { RateLimiter } from 'weftjs/sync';
import {
  runScenario,
  timeAsync,
  type Contender,
  type ContenderKind,
  type ScenarioResult,
} from '../lib/harness.js';
import type { Suite } from '../lib/suite.js';

const root = path.resolve(import.meta.dirname, '..', '..');

type Job = () => Promise<unknown>;
/** Makes a fresh limiter for `limit` per `interval` ms and returns a function that runs a job through it. */
type Factory = (limit: number, interval: number) => (job: Job) => Promise<unknown>;

// ---------------------------------------------------------------------------------------------------------------
// The floor: a sliding window of admission times in a ring, a FIFO of waiting calls, one timer while anyone waits.
// It calls `fn` synchronously at admission (no asynchronous start, no async-context hand-over), weight 1 only.

function floorWindow(limit: number, interval: number): (job: Job) => Promise<unknown> {
  // Admission times in the window, oldest first, from `oldest` on (compacted once half of the array is spent).
  let times: number[] = [];
  let oldest = 0;
  const waiting: ({ job: Job; resolve: (value: unknown) => void } | undefined)[] = [];
  let head = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const admitOne = (now: number): boolean => {
    while (oldest < times.length && now - times[oldest]! >= interval) oldest++;
    if (times.length - oldest >= limit) return false;
    if (oldest > 1024 && oldest * 2 > times.length) {
      times = times.slice(oldest);
      oldest = 0;
    }
    times.push(now);
    return true;
  };
  const pump = (): void => {
    timer = undefined;
    while (head < waiting.length && admitOne(performance.now())) {
      const { job, resolve } = waiting[head]!;
      waiting[head++] = undefined;
      resolve(job());
    }
    if (head === waiting.length) {
      waiting.length = head = 0;
    } else {
      timer = setTimeout(pump, Math.max(1, Math.ceil(times[oldest]! + interval - performance.now())));
    }
  };
  return (job) => {
    if (head === waiting.length && admitOne(performance.now())) {
      try {
        return Promise.resolve(job());
      } catch (error) {
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- whatever the job threw
        return Promise.reject(error);
      }
    }
    return new Promise((resolve) => {
      waiting.push({ job, resolve });
      if (timer === undefined) pump();
    });
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The contenders, each made fresh per sample.

interface Entry {
  name: string;
  kind: ContenderKind;
  make: Factory;
}

const entries: Entry[] = [
  { name: 'sliding window', kind: 'floor', make: floorWindow },
  {
    name: 'weft RateLimiter',
    kind: 'weft',
    make: (limit, interval) => {
      const limiter = new RateLimiter({ limit, interval });
      return (job) => limiter.run(job);
    },
  },
  {
    name: 'p-throttle',
    kind: 'peer',
    make: (limit, interval) => pThrottle({ limit, interval })((job: Job) => job()),
  },
  {
    name: 'p-throttle strict',
    kind: 'peer',
    make: (limit, interval) => pThrottle({ limit, interval, strict: true })((job: Job) => job()),
  },
  {
    name: 'limiter',
    kind: 'peer',
    make: (limit, interval) => {
      const bucket = new TokenBucket({ tokensPerInterval: limit, interval });
      return async (job) => {
        await bucket.removeTokens(1);
        return job();
      };
    },
  },
  {
    name: 'bottleneck',
    kind: 'peer',
    make: (limit, interval) => {
      const bottleneck = new Bottleneck({
        reservoir: limit,
        reservoirRefreshAmount: limit,
        reservoirRefreshInterval: interval,
      });
      return (job) => bottleneck.schedule(job);
    },
  },
  {
    name: 'p-queue interval',
    kind: 'peer',
    make: (limit, interval) => {
      const queue = new PQueue({ interval, intervalCap: limit });
      return (job) => queue.add(job);
    },
  },
  {
    name: 'p-queue strict',
    kind: 'peer',
    make: (limit, interval) => {
      const queue = new PQueue({ interval, intervalCap: limit, strict: true });
      return (job) => queue.add(job);
    },
  },
];

// ---------------------------------------------------------------------------------------------------------------
// (a) Accuracy: 50 per 200 ms, a steady trickle, and a burst of 400 callers in the middle of a window.

const LIMIT = 50;
const INTERVAL = 200;

interface Accuracy {
  /** The most admissions in any sliding window of INTERVAL ms. */
  worstWindow: number;
  /** Admissions while callers were queued, as % of what the limit allows over that time. */
  achieved: number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function accuracy(make: Factory, burst: number, trickleEvery: number): Promise<Accuracy> {
  const run = make(LIMIT, INTERVAL);
  const starts: number[] = [];
  const burstStarts: number[] = [];
  const job = (): Promise<void> => {
    starts.push(performance.now());
    return Promise.resolve();
  };
  const burstJob = (): Promise<void> => {
    burstStarts.push(performance.now());
    return job();
  };
  let trickling = true;
  const trickle = (async () => {
    const calls: Promise<unknown>[] = [];
    while (trickling) {
      calls.push(run(job));
      await sleep(trickleEvery);
    }
    await Promise.all(calls);
  })();
  await sleep(2 * INTERVAL + INTERVAL / 2); // mid-window, counting windows from the limiter's creation
  const burstAt = performance.now();
  const calls: Promise<unknown>[] = [];
  for (let i = 0; i < burst; i++) calls.push(run(burstJob));
  await Promise.all(calls);
  trickling = false;
  await trickle;

  starts.sort((a, b) => a - b);
  let worstWindow = 0;
  for (let last = 0, first = 0; last < starts.length; last++) {
    while (starts[first]! <= starts[last]! - INTERVAL) first++;
    worstWindow = Math.max(worstWindow, last - first + 1);
  }
  // Callers were queued from the burst until the last burst caller started: count whole windows of that span.
  const lastBurst = Math.max(...burstStarts);
  const windows = Math.max(1, Math.floor((lastBurst - burstAt) / INTERVAL));
  const end = burstAt + windows * INTERVAL;
  const admitted = starts.filter((t) => t >= burstAt && t < end).length;
  return { worstWindow, achieved: (100 * admitted) / (windows * LIMIT) };
}

// ---------------------------------------------------------------------------------------------------------------
// (b) Overhead per call with the limit far above the load.

async function overhead(make: Factory, n: number): Promise<number> {
  const run = make(1_000_000_000, 1_000);
  const noop = async (): Promise<void> => {};
  const ms = await timeAsync(async () => {
    const results = new Array<Promise<unknown>>(n);
    for (let i = 0; i < n; i++) results[i] = run(noop);
    await Promise.all(results);
  });
  return (ms * 1_000) / n;
}

// ---------------------------------------------------------------------------------------------------------------
// (c) Does a process holding an idle limiter exit by itself?

const IDLE_CAP_MS = 3_000;

/** Milliseconds the child stays alive after going idle; IDLE_CAP_MS when it had to be killed. */
function idleExit(name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(root, 'bench', 'workers', 'rate-idle.mjs'), name], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let idleAt: number | undefined;
    let killer: ReturnType<typeof setTimeout> | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      if (idleAt === undefined && chunk.toString().includes('idle')) {
        idleAt = performance.now();
        killer = setTimeout(() => child.kill(), IDLE_CAP_MS);
      }
    });
    child.on('error', reject);
    child.on('exit', () => {
      clearTimeout(killer);
      if (idleAt === undefined) reject(new Error(`${name}: the idle-exit worker failed`));
      else resolve(Math.min(IDLE_CAP_MS, performance.now() - idleAt));
    });
  });
}

const IDLE_NAMES: Record<string, string> = {
  'sliding window': 'floor',
  'weft RateLimiter': 'weft',
  'p-throttle': 'p-throttle',
  'p-throttle strict': 'p-throttle strict',
  limiter: 'limiter',
  bottleneck: 'bottleneck',
  'p-queue interval': 'p-queue interval',
  'p-queue strict': 'p-queue strict',
};

// ---------------------------------------------------------------------------------------------------------------

const suite: Suite = {
  name: 'rate',
  title: 'weftjs/sync RateLimiter',
  description:
    '`RateLimiter` against [p-throttle](https://github.com/sindresorhus/p-throttle), ' +
    '[limiter](https://github.com/jhurliman/node-rate-limiter), [bottleneck](https://github.com/SGrondin/bottleneck) ' +
    '(its reservoir), and [p-queue](https://github.com/sindresorhus/p-queue) `interval`/`intervalCap`, each also in ' +
    'its `strict` mode where it has one, and a hand-written sliding window (the floor: the admission times in the ' +
    'window, a FIFO, one timer; it calls `fn` synchronously at admission). **Accuracy**: 50 per 200 ms, a call every 20 ms and a ' +
    'burst of 400 callers in the middle of a window; the time of admission is when `fn` starts. *Worst window* is ' +
    'the most calls started in any sliding 200 ms (50 is the limit: anything above is over-admission); *achieved ' +
    'rate* is the calls started while callers were queued, as % of what the limit allows over that time (100% is ' +
    'the most a correct limiter can do; above 100% means over-admission). **Overhead**: 20,000 `async () => {}` ' +
    'calls through a limiter whose limit is far above the load, in µs per call (bottleneck gets 500 calls: it ' +
    'costs milliseconds each). **Idle exit**: a child process uses the limiter (2 per 300 ms, 3 calls, so one ' +
    'waits), then goes idle; the figure is how long it stays alive after that, in ms: about 0 means it exits by ' +
    'itself, 3,000 means it never does and had to be killed.',
  async run({ quick, log }) {
    const results: ScenarioResult[] = [];
    const rounds = quick ? 1 : 3;

    // (a) Each round runs every contender once, in an order that rotates, and records both figures.
    const recorded = new Map<string, Accuracy[]>(entries.map((e) => [e.name, []]));
    const burst = quick ? 100 : 400;
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < entries.length; i++) {
        const entry = entries[(i + round) % entries.length]!;
        recorded.get(entry.name)!.push(await accuracy(entry.make, burst, 20));
      }
      log(`  rate-accuracy: round ${round + 1}/${rounds}`);
    }
    const replay = (pick: (a: Accuracy) => number): Contender[] =>
      entries.map((e) => {
        const values = recorded.get(e.name)!.map(pick);
        return { name: e.name, kind: e.kind, sample: () => values.shift()! };
      });
    results.push(
      await runScenario({
        id: 'rate-worst-window',
        title: `Worst sliding window: most calls started in any 200 ms (limit 50, burst of ${burst})`,
        unit: 'calls',
        target: 'weft <= 50 (no over-admission)',
        rounds,
        warmup: 0,
        contenders: replay((a) => a.worstWindow),
      }),
      await runScenario({
        id: 'rate-achieved',
        title: 'Achieved rate while callers queue, % of the limit (50 per 200 ms)',
        unit: '% of limit',
        higherIsBetter: true,
        target: 'weft >= 97% and <= 100%',
        rounds,
        warmup: 0,
        contenders: replay((a) => a.achieved),
      }),
    );

    // (b)
    const n = quick ? 2_000 : 20_000;
    results.push(
      await runScenario(
        {
          id: 'rate-overhead',
          title: `Overhead per call, limit far above the load (${n.toLocaleString('en-US')} calls)`,
          unit: 'µs/call',
          target: 'weft <= p-throttle',
          rounds: quick ? 2 : 9,
          warmup: quick ? 1 : 2,
          contenders: entries.map((e) => ({
            name: e.name,
            kind: e.kind,
            sample: () => overhead(e.make, e.name === 'bottleneck' ? Math.min(n, 500) : n),
          })),
        },
        log,
      ),
    );

    // (c)
    results.push(
      await runScenario(
        {
          id: 'rate-idle-exit',
          title: 'Idle exit: ms a process stays alive after its limiter went idle',
          unit: 'ms',
          target: 'weft exits by itself (about 0)',
          rounds: quick ? 1 : 3,
          warmup: 0,
          contenders: [
            { name: 'no limiter', kind: 'baseline', sample: () => idleExit('floor') },
            ...entries
              .filter((e) => e.kind !== 'floor')
              .map((e) => ({ name: e.name, kind: e.kind, sample: () => idleExit(IDLE_NAMES[e.name]!) })),
          ],
        },
        log,
      ),
    );
    return results;
  },
};

export default suite;
