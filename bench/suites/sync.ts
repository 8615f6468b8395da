/**
 * weftjs/sync against its peers and a hand-written floor: throughput of a concurrency limiter, uncontended and
 * contended mutex hand-offs, and the heap a pending (or aborted) waiter costs.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { AsyncMutex as EsfxMutex } from '@esfx/async-mutex';
import { Sema } from 'async-sema';
import { Mutex as AsyncMutex } from 'async-mutex';
import pLimit from 'p-limit';
import PQueue from 'p-queue';
import { Mutex, Semaphore, limit } from 'weftjs/sync';
import { cpuTimeAsync, runScenario, type Contender, type ScenarioResult } from '../lib/harness.js';
import type { Suite } from '../lib/suite.js';

const root = path.resolve(import.meta.dirname, '..', '..');

// ---------------------------------------------------------------------------------------------------------------
// The floor: the least code that does each job. A power-of-two ring buffer and direct promise hand-off.

class Ring<T> {
  private items: (T | undefined)[] = new Array<T | undefined>(16);
  private head = 0;
  size = 0;

  push(item: T): void {
    if (this.size === this.items.length) this.grow();
    this.items[(this.head + this.size) & (this.items.length - 1)] = item;
    this.size++;
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.size--;
    return item;
  }

  private grow(): void {
    const items = new Array<T | undefined>(this.items.length * 2);
    for (let i = 0; i < this.size; i++) items[i] = this.items[(this.head + i) & (this.items.length - 1)];
    this.items = items;
    this.head = 0;
  }
}

type Task = () => Promise<unknown>;

/**
 * The floor of the limiter scenarios, held to the same contract as `limit` and `Semaphore.run`: FIFO, at most
 * `c` running, `fn` started asynchronously by a reaction registered in the caller's call (so the caller's async
 * context carries over), the result handed back.
 */
function floorLimit(c: number): (fn: Task) => Promise<unknown> {
  let active = 0;
  const queue = new Ring<() => void>();
  const done = (): void => {
    const next = queue.shift();
    if (next !== undefined) next();
    else active--;
  };
  const resolved = Promise.resolve();
  return (fn) => {
    let gate: Promise<void>;
    if (active < c && queue.size === 0) {
      active++;
      gate = resolved;
    } else {
      gate = new Promise<void>((resolve) => queue.push(resolve));
    }
    return gate.then(() => {
      let result: Promise<unknown>;
      try {
        result = fn();
      } catch (error) {
        done();
        throw error;
      }
      result.then(done, done);
      return result;
    });
  };
}

/** Without the contract's async start and context hand-over: `fn` runs inside the call or the releaser's stack. */
function bareLimit(c: number): (fn: Task) => Promise<unknown> {
  let active = 0;
  interface Entry {
    fn: Task;
    resolve: (value: unknown) => void;
    reject: (error: unknown) => void;
  }
  const queue = new Ring<Entry>();
  const next = (): void => {
    const entry = queue.shift();
    if (entry !== undefined) start(entry);
    else active--;
  };
  const start = (entry: Entry): void => {
    entry.fn().then(
      (value) => {
        next();
        entry.resolve(value);
      },
      (error: unknown) => {
        next();
        entry.reject(error);
      },
    );
  };
  return (fn) =>
    new Promise((resolve, reject) => {
      const entry = { fn, resolve, reject };
      if (active < c) {
        active++;
        start(entry);
      } else queue.push(entry);
    });
}

/** A FIFO mutex handing the lock straight to the next waiter. */
class FloorMutex {
  private locked = false;
  private readonly queue = new Ring<(release: () => void) => void>();
  readonly release = (): void => {
    const next = this.queue.shift();
    if (next !== undefined) next(this.release);
    else this.locked = false;
  };

  lock(): Promise<() => void> {
    if (!this.locked) {
      this.locked = true;
      return Promise.resolve(this.release);
    }
    return new Promise((resolve) => this.queue.push(resolve));
  }
}

interface FloorNode {
  prev: FloorNode | null;
  next: FloorNode | null;
  resolve: (release: () => void) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal;
}

/** The floor of the abort scenario: an intrusive list, so an aborted waiter is unlinked at once. */
class FloorAbortableMutex {
  private locked = false;
  private head: FloorNode | null = null;
  private tail: FloorNode | null = null;
  readonly release = (): void => {
    const node = this.head;
    if (node === null) {
      this.locked = false;
      return;
    }
    this.unlink(node);
    node.resolve(this.release);
  };

  lock(signal: AbortSignal): Promise<() => void> {
    if (!this.locked) {
      this.locked = true;
      return Promise.resolve(this.release);
    }
    return new Promise((resolve, reject) => {
      const node: FloorNode = { prev: this.tail, next: null, resolve, reject, signal };
      if (this.tail === null) this.head = node;
      else this.tail.next = node;
      this.tail = node;
      signal.addEventListener(
        'abort',
        () => {
          this.unlink(node);
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });
  }

  private unlink(node: FloorNode): void {
    if (node.prev === null) this.head = node.next;
    else node.prev.next = node.next;
    if (node.next === null) this.tail = node.prev;
    else node.next.prev = node.prev;
    node.prev = node.next = null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Workloads

const noop = async (): Promise<void> => {};

async function throughput(n: number, run: (fn: Task) => Promise<unknown>): Promise<number> {
  return cpuTimeAsync(async () => {
    const results = new Array<Promise<unknown>>(n);
    for (let i = 0; i < n; i++) results[i] = run(noop);
    await Promise.all(results);
  });
}

function limiterContenders(n: number, c: number): Contender[] {
  return [
    { name: 'floor', kind: 'floor', sample: () => throughput(n, floorLimit(c)) },
    {
      name: 'weft limit',
      kind: 'weft',
      sample: () => {
        const lim = limit(c);
        return throughput(n, (fn) => lim(fn));
      },
    },
    {
      name: 'weft Semaphore.run',
      kind: 'weft',
      sample: () => {
        const sem = new Semaphore(c);
        return throughput(n, (fn) => sem.run(fn));
      },
    },
    {
      name: 'bare (sync start, no context)',
      kind: 'baseline',
      sample: () => throughput(n, bareLimit(c)),
    },
    {
      name: 'async-sema',
      kind: 'peer',
      sample: () => {
        const sema = new Sema(c);
        return throughput(n, async (fn) => {
          await sema.acquire();
          try {
            return await fn();
          } finally {
            sema.release();
          }
        });
      },
    },
    {
      name: 'p-limit',
      kind: 'peer',
      sample: () => {
        const lim = pLimit(c);
        return throughput(n, (fn) => lim(fn));
      },
    },
    {
      name: 'p-queue',
      kind: 'peer',
      sample: () => {
        const queue = new PQueue({ concurrency: c });
        return throughput(n, (fn) => queue.add(fn));
      },
    },
  ];
}

async function uncontended(n: number, lockUnlock: () => Promise<void>): Promise<number> {
  return cpuTimeAsync(async () => {
    for (let i = 0; i < n; i++) await lockUnlock();
  });
}

function uncontendedContenders(n: number): Contender[] {
  const floor = new FloorMutex();
  const weft = new Mutex();
  const esfx = new EsfxMutex();
  const asyncMutex = new AsyncMutex();
  return [
    { name: 'floor', kind: 'floor', sample: () => uncontended(n, async () => (await floor.lock())()) },
    {
      name: 'weft Mutex',
      kind: 'weft',
      sample: () => uncontended(n, async () => (await weft.lock()).release()),
    },
    {
      name: '@esfx/async-mutex',
      kind: 'peer',
      sample: () =>
        uncontended(n, async () => {
          await esfx.lock();
          esfx.unlock();
        }),
    },
    {
      name: 'async-mutex',
      kind: 'peer',
      sample: () => uncontended(n, async () => (await asyncMutex.acquire())()),
    },
  ];
}

/**
 * Milliseconds for one batch of `n` tasks started at once, each running `section` on the contender's lock. The lock
 * lives as long as the scenario, as an app's does; the harness runs a full GC before every sample and alternates the
 * contenders, so each batch starts as a burst of contention does in an app after a quiet spell: no waiter, permit or
 * task of an earlier batch left in the heap, and no warm-up batch just before it.
 */
async function contended(n: number, section: () => Promise<void>): Promise<number> {
  return cpuTimeAsync(async () => {
    const tasks = new Array<Promise<void>>(n);
    for (let i = 0; i < n; i++) tasks[i] = section();
    await Promise.all(tasks);
  });
}

/** `perKey`: a lock made for each sample, as an app that makes one lock per key and drops it when idle. */
function contendedContenders(n: number, perKey: boolean): Contender[] {
  /** The lock for a sample: the contender's own, or a new one per sample. */
  const lockOf = <L>(make: () => L): (() => L) => {
    const shared = make();
    return perKey ? make : () => shared;
  };
  const floorLock = lockOf(() => new FloorMutex());
  const weftLock = lockOf(() => new Mutex());
  const esfxLock = lockOf(() => new EsfxMutex());
  const asyncMutexLock = lockOf(() => new AsyncMutex());
  return [
    {
      name: 'floor',
      kind: 'floor',
      sample: () => {
        const floor = floorLock();
        return contended(n, async () => {
          const release = await floor.lock();
          await Promise.resolve();
          release();
        });
      },
    },
    {
      name: 'weft Mutex',
      kind: 'weft',
      sample: () => {
        const weft = weftLock();
        return contended(n, async () => {
          const lock = await weft.lock();
          await Promise.resolve();
          lock.release();
        });
      },
    },
    {
      name: '@esfx/async-mutex',
      kind: 'peer',
      sample: () => {
        const esfx = esfxLock();
        return contended(n, async () => {
          await esfx.lock();
          await Promise.resolve();
          esfx.unlock();
        });
      },
    },
    {
      name: 'async-mutex',
      kind: 'peer',
      sample: () => {
        const asyncMutex = asyncMutexLock();
        return contended(n, async () => {
          const release = await asyncMutex.acquire();
          await Promise.resolve();
          release();
        });
      },
    },
  ];
}

/**
 * Heap is measured in a fresh process per sample: in a long-lived one, optimized code from earlier samples can keep
 * their garbage alive through a few collections, which skews (even negates) a before/after difference.
 * `setup` is the body of a function returning `{ wait }`; it can use the floor classes, weftjs/sync and the peers.
 */
function heapInChild(script: string): () => number {
  const code = [
    "import { Mutex, Semaphore, limit } from 'weftjs/sync';",
    "import { Mutex as AsyncMutex } from 'async-mutex';",
    "import { AsyncMutex as EsfxMutex } from '@esfx/async-mutex';",
    "import { Sema } from 'async-sema';",
    "import pLimit from 'p-limit';",
    // The classes below are injected as source; tsx's transform may reference its `__name` helper in them.
    "const __name = (target, value) => Object.defineProperty(target, 'name', { value, configurable: true });",
    Ring.toString(),
    FloorMutex.toString(),
    FloorAbortableMutex.toString(),
    'const ignore = () => {};',
    'const noop = async () => {};',
    raceAbort.toString(),
    // Heap in use after full collections, repeated until it stops shrinking.
    'async function heapUsed() {',
    '  let used = Infinity;',
    '  for (let i = 0; i < 8; i++) {',
    '    await new Promise((resolve) => setImmediate(resolve));',
    '    gc();',
    '    const now = process.memoryUsage().heapUsed;',
    '    if (now > used - 65536) return Math.min(now, used);',
    '    used = now;',
    '  }',
    '  return used;',
    '}',
    script,
  ].join('\n');
  return () => {
    const output = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], {
      cwd: root,
      encoding: 'utf8',
    });
    return Number(output.trim());
  };
}

/** Bytes of heap per pending waiter, the caller's promise included: `n` waiters queued behind a held lock. */
function pendingHeap(n: number, setup: string): () => number {
  return heapInChild(`
    const make = () => { ${setup} };
    const warm = make();
    for (let i = 0; i < 1000; i++) warm.wait().catch(ignore); // warm-up, so compiled code is not counted
    const before = await heapUsed();
    const primitive = make();
    const promises = new Array(${n});
    for (let i = 0; i < ${n}; i++) promises[i] = primitive.wait();
    globalThis.retained = [primitive, promises];
    const after = await heapUsed();
    console.log((after - before) / ${n});
  `);
}

function pendingHeapContenders(n: number): Contender[] {
  const contender = (name: string, kind: Contender['kind'], setup: string): Contender => ({
    name,
    kind,
    sample: pendingHeap(n, setup),
  });
  return [
    contender(
      'floor',
      'floor',
      'const m = new FloorMutex(); void m.lock(); return { wait: () => m.lock() };',
    ),
    contender(
      'weft Mutex.lock',
      'weft',
      'const m = new Mutex(); m.tryLock(); return { wait: () => m.lock() };',
    ),
    contender(
      'weft Semaphore.acquire',
      'weft',
      'const s = new Semaphore(1); s.tryAcquire(); return { wait: () => s.acquire() };',
    ),
    contender(
      'weft limit',
      'weft',
      'const l = limit(1); void l(() => new Promise(ignore)); return { wait: () => l(noop) };',
    ),
    contender(
      'async-mutex',
      'peer',
      'const m = new AsyncMutex(); void m.acquire(); return { wait: () => m.acquire() };',
    ),
    contender(
      '@esfx/async-mutex',
      'peer',
      'const m = new EsfxMutex(); void m.lock(); return { wait: () => m.lock() };',
    ),
    contender(
      'async-sema',
      'peer',
      'const s = new Sema(1); void s.acquire(); return { wait: () => s.acquire() };',
    ),
    contender(
      'p-limit',
      'peer',
      'const l = pLimit(1); void l(() => new Promise(ignore)); return { wait: () => l(noop) };',
    ),
  ];
}

/**
 * Bytes of heap the primitive still holds per waiter after each of `n` waiters was given up on (its own signal
 * aborted) and the caller dropped it: the heap with the primitive kept, minus the heap once it is dropped too.
 * Peers that cannot remove one waiter are given up on the usual way, racing the wait against the abort: their
 * waiter stays queued until the lock comes round to it.
 */
function abortedHeap(n: number, setup: string): () => number {
  return heapInChild(`
    const make = () => { ${setup} };
    async function abortAll(primitive, count) {
      const settled = new Array(count);
      for (let i = 0; i < count; i++) {
        const controller = new AbortController();
        settled[i] = primitive.wait(controller.signal).catch(ignore);
        controller.abort();
      }
      await Promise.all(settled);
    }
    // No warm-up round here: optimized code from it can keep an earlier primitive alive and hide its waiters.
    globalThis.retained = make();
    await abortAll(globalThis.retained, ${n});
    const kept = await heapUsed();
    globalThis.retained = undefined;
    const dropped = await heapUsed();
    // What the primitive itself still holds once all its waiters were aborted.
    console.log(Math.max(0, (kept - dropped) / ${n}));
  `);
}

/** How peers that cannot abort one waiter are given up on: the caller stops waiting, the waiter stays queued. */
function raceAbort(promise: Promise<unknown>, signal: AbortSignal): Promise<unknown> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
  ]);
}

function abortedHeapContenders(n: number): Contender[] {
  const contender = (name: string, kind: Contender['kind'], setup: string): Contender => ({
    name,
    kind,
    sample: abortedHeap(n, setup),
  });
  return [
    contender(
      'floor',
      'floor',
      'const m = new FloorAbortableMutex(); void m.lock(new AbortController().signal); return { wait: (signal) => m.lock(signal) };',
    ),
    contender(
      'weft Mutex.lock',
      'weft',
      'const m = new Mutex(); m.tryLock(); return { wait: (signal) => m.lock({ signal }) };',
    ),
    contender(
      'weft Semaphore.acquire',
      'weft',
      'const s = new Semaphore(1); s.tryAcquire(); return { wait: (signal) => s.acquire(1, { signal }) };',
    ),
    contender(
      'async-mutex (race)',
      'peer',
      'const m = new AsyncMutex(); void m.acquire(); return { wait: (signal) => raceAbort(m.acquire(), signal) };',
    ),
    contender(
      'async-sema (race)',
      'peer',
      'const s = new Sema(1); void s.acquire(); return { wait: (signal) => raceAbort(s.acquire(), signal) };',
    ),
    contender(
      'p-limit (race)',
      'peer',
      'const l = pLimit(1); void l(() => new Promise(ignore)); return { wait: (signal) => raceAbort(l(noop), signal) };',
    ),
  ];
}

// ---------------------------------------------------------------------------------------------------------------

const suite: Suite = {
  name: 'sync',
  title: 'weftjs/sync',
  description: [
    'Times are CPU time of the process (user + system, GC threads included), so other work on the machine does not',
    'inflate whichever contender it falls on. Limiter scenarios push 100k `async () => {}` through each limiter at',
    'once and time until all settled. Their floor keeps the contract weft keeps (FIFO, `fn` started asynchronously',
    "by a reaction registered in the caller's call, so `AsyncLocalStorage` values carry over); the *bare* baseline",
    'drops that and runs `fn` inside the call or the releaser, to show what the contract costs. Mutex scenarios time',
    '100k sequential lock/release pairs, and one batch of 10k tasks contending for one long-lived lock with one',
    '`await` inside, right after a full GC (one batch per sample, no warm-up round, the median of 21 alternating',
    'rounds), once more on a lock made for each batch (an app with a lock per key). Heap scenarios run each sample in a fresh process and measure `process.memoryUsage().heapUsed` after',
    'full GCs: per pending waiter (100k queued, caller promises kept), and what the primitive still holds per waiter',
    'after 50k waiters were each aborted and dropped (the heap with the primitive kept minus the heap once it is',
    'dropped too; peers that cannot remove one waiter are raced against the abort, the usual workaround, and keep',
    'their waiter queued).',
  ].join(' '),
  async run({ quick, log }): Promise<ScenarioResult[]> {
    const tasks = quick ? 10_000 : 100_000;
    const rounds = quick ? 3 : 11;
    const warmup = quick ? 1 : 2;
    const results: ScenarioResult[] = [];
    for (const c of [1, 10, 100]) {
      results.push(
        await runScenario(
          {
            id: `sync-limit-c${c}`,
            title: `${tasks / 1000}k async tasks through a limiter, concurrency ${c}`,
            unit: 'ms',
            target: 'weft <= 1.2x floor',
            rounds,
            warmup,
            contenders: limiterContenders(tasks, c),
          },
          log,
        ),
      );
    }
    results.push(
      await runScenario(
        {
          id: 'sync-mutex-uncontended',
          title: `${tasks / 1000}k uncontended lock/release`,
          unit: 'ms',
          target: 'weft <= 1.5x floor',
          rounds,
          warmup,
          contenders: uncontendedContenders(tasks),
        },
        log,
      ),
    );
    const contenders = quick ? 2_000 : 10_000;
    for (const perKey of [false, true]) {
      results.push(
        await runScenario(
          {
            id: perKey ? 'sync-mutex-contended-per-key' : 'sync-mutex-contended',
            title: `${contenders / 1000}k tasks contending for a mutex (lock, one await, release), after a full GC${perKey ? ', on a lock made for the burst' : ''}`,
            unit: 'ms',
            target: 'weft <= 1.5x floor',
            rounds: quick ? 3 : 21,
            // No warm-up: the median over rounds leaves the cold first round out, as an app's steady state would.
            warmup: 0,
            contenders: contendedContenders(contenders, perKey),
          },
          log,
        ),
      );
    }
    const waiters = quick ? 20_000 : 100_000;
    results.push(
      await runScenario(
        {
          id: 'sync-heap-pending',
          title: `Heap per pending waiter (${waiters / 1000}k waiters, caller promises kept)`,
          unit: 'B',
          target: 'weft <= 1.3x floor',
          rounds: quick ? 2 : 5,
          warmup: 1,
          contenders: pendingHeapContenders(waiters),
        },
        log,
      ),
    );
    const aborted = quick ? 5_000 : 50_000;
    results.push(
      await runScenario(
        {
          id: 'sync-heap-aborted',
          title: `Heap kept per aborted waiter (${aborted / 1000}k waiters, each aborted and dropped)`,
          unit: 'B',
          target: 'weft ~0 B',
          rounds: quick ? 2 : 5,
          warmup: 1,
          contenders: abortedHeapContenders(aborted),
        },
        log,
      ),
    );
    return results;
  },
};

export default suite;
