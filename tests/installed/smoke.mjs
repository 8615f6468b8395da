// A smoke run of every module on the installed package. The same file runs on Node, Bun and Deno; it must print
// "smoke: N passed, 0 failed" and exit by itself (nothing weft leaves behind may keep the process alive).
import { Barrier, Event, Mutex, RWLock, RateLimiter, Semaphore, limit } from 'weftjs/sync';
import { Channel, recv, select } from 'weftjs/channel';
import { Scheduler, scope, sleep } from 'weftjs/scheduler';
import { WorkerPool } from 'weftjs/pool';
import { SharedMutex, SharedSemaphore } from 'weftjs/shared';
import { ClosedError } from 'weftjs';

const runtime = globalThis.Deno ? 'deno' : globalThis.Bun ? 'bun' : 'node';
let passed = 0;
let failed = 0;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function test(name, body) {
  try {
    await body();
    passed++;
    console.log(`ok ${name}`);
  } catch (error) {
    failed++;
    console.log(`FAILED ${name}: ${error?.stack ?? error}`);
  }
}

await test('Semaphore: weighted FIFO, release, close', async () => {
  const sem = new Semaphore(3);
  const order = [];
  const held = await sem.acquire(3);
  const heavy = sem.acquire(2).then((p) => (order.push('heavy'), p));
  const light = sem.acquire(1).then((p) => (order.push('light'), p));
  check(sem.tryAcquire(1) === undefined, 'tryAcquire jumped the queue');
  held.release();
  (await heavy).release();
  (await light).release();
  check(order.join() === 'heavy,light', `order ${order}`);
  sem.close();
  const rejected = await sem.acquire().then(
    () => undefined,
    (e) => e,
  );
  check(rejected instanceof ClosedError, 'acquire after close did not reject ClosedError');
});

await test('limit: concurrency bound and map', async () => {
  const lim = limit(2);
  let active = 0;
  let peak = 0;
  const results = await lim.map([1, 2, 3, 4, 5, 6], async (n) => {
    active++;
    peak = Math.max(peak, active);
    await sleep(1);
    active--;
    return n * 2;
  });
  check(results.join() === '2,4,6,8,10,12', `results ${results}`);
  check(peak === 2, `peak ${peak}`);
});

await test('RateLimiter: a burst of the limit, then the window; tryTake never jumps the queue', async () => {
  const limiter = new RateLimiter({ limit: 2, interval: 40 });
  const started = performance.now();
  await limiter.take();
  check((await limiter.run(() => 'ran')) === 'ran', 'run did not return fn result');
  const third = limiter.take();
  check(!limiter.tryTake(), 'tryTake jumped the queue');
  await third;
  check(performance.now() - started >= 39, 'the third call was admitted inside the window');
  // Left idle with a full window: it must not keep the process alive (checked by this file exiting).
});

await test('Mutex, RWLock, Event, Barrier', async () => {
  const mutex = new Mutex();
  let inside = 0;
  await Promise.all(
    [1, 2, 3].map(() =>
      mutex.run(async () => (check(++inside === 1, 'two holders'), await sleep(1), inside--)),
    ),
  );
  const rw = new RWLock();
  const reads = await Promise.all([rw.runRead(() => 1), rw.runRead(() => 2)]);
  check(reads.join() === '1,2', 'reads');
  const event = new Event();
  setTimeout(() => event.set(), 1);
  await event.wait({ timeout: 5_000 });
  const barrier = new Barrier(2);
  const indices = await Promise.all([barrier.wait(), barrier.wait()]);
  check(indices.sort().join() === '0,1', `barrier ${indices}`);
  const timedOut = await new Event().wait({ timeout: 5 }).then(
    () => 'resolved',
    (e) => e.name,
  );
  check(timedOut === 'TimeoutError', `timeout ${timedOut}`);
});

await test('Channel: for await, select, close', async () => {
  const ch = new Channel(2);
  const producer = (async () => {
    for (let i = 0; i < 100; i++) await ch.send(i);
    ch.close();
  })();
  let sum = 0;
  for await (const value of ch) sum += value;
  await producer;
  check(sum === 4950, `sum ${sum}`);
  const a = new Channel(1);
  const b = new Channel(1);
  await b.send('b');
  const chosen = await select([recv(a), recv(b)], { timeout: 5_000 });
  check(chosen.index === 1 && chosen.value === 'b', `select ${JSON.stringify(chosen)}`);
});

await test('Scheduler: generator tasks, a task waiting on a timer, scope, cancel', async () => {
  const scheduler = new Scheduler({ sliceMs: 2 });
  const counted = scheduler.spawn(function* () {
    let n = 0;
    for (let i = 0; i < 100_000; i++) {
      n += i % 3;
      yield;
    }
    return n;
  });
  // Nothing else keeps the process alive here: the scheduler must, until the timer fires.
  const slept = scheduler.spawn(async (ctx) => {
    await sleep(30, { signal: ctx.signal });
    return 'awake';
  });
  check((await slept) === 'awake', 'timer task');
  check((await counted) === 99_999, 'generator task');
  const results = await scope(async (s) => Promise.all([s.spawn(() => 1), s.spawn(async () => 2)]));
  check(results.join() === '1,2', 'scope');
  const forever = scheduler.spawn(function* () {
    for (;;) yield;
  });
  await sleep(5);
  forever.cancel();
  const reason = await Promise.resolve(forever).then(
    () => undefined,
    (e) => e.name,
  );
  check(reason === 'AbortError' && forever.status === 'cancelled', `cancel ${reason} ${forever.status}`);
  await scheduler[Symbol.asyncDispose]();
});

await test('WorkerPool: run and stream on a worker file that imports weftjs/worker', async () => {
  const pool = new WorkerPool({ worker: new URL('./worker.mjs', import.meta.url), maxThreads: 2 });
  try {
    const sums = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run('add', [i, 1])));
    check(sums.reduce((a, b) => a + b, 0) === 210, `sums ${sums}`);
    const streamed = [];
    for await (const value of pool.stream('count', [5])) streamed.push(value);
    check(streamed.join() === '0,1,2,3,4', `stream ${streamed}`);
    check(pool.stats.completed >= 21, `completed ${pool.stats.completed}`);
  } finally {
    await pool.close();
  }
});

await test('SharedMutex and SharedSemaphore across a worker thread', async () => {
  const mutex = new SharedMutex();
  const pool = new WorkerPool({ worker: new URL('./worker.mjs', import.meta.url), maxThreads: 1 });
  try {
    const permit = await mutex.lock();
    check((await pool.run('lockIsFree', [mutex.handle])) === false, 'worker took a held lock');
    permit.release();
    check((await pool.run('lockIsFree', [mutex.handle])) === true, 'worker could not take a free lock');
  } finally {
    await pool.close();
  }
  const sem = new SharedSemaphore(2);
  const first = await sem.acquire(2);
  check(sem.available === 0, 'available');
  first.release();
  check(SharedSemaphore.from(sem.handle).available === 2, 'from(handle)');
});

console.log(`smoke (${runtime}): ${passed} passed, ${failed} failed`);
if (failed > 0) process.exitCode = 1;
