/**
 * Lost updates, and how a SharedMutex prevents them: worker threads add 1 to one shared counter many times, first
 * without a lock, then under `lockSync()` and under `run()`, and the totals are compared with the exact count.
 *
 *   npm run build && npx tsx examples/shared-counter/main.ts
 *   WEFT_EXAMPLE_QUICK=1 npx tsx examples/shared-counter/main.ts   # fewer increments
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { SharedMutex } from 'weftjs/shared';
import type { CounterJob, Mode } from './worker.js';

const quick = process.env.WEFT_EXAMPLE_QUICK === '1';
const threads = Math.max(2, Math.min(4, availableParallelism()));
const increments = quick ? 50_000 : 500_000;
const expected = threads * increments;

// The lock and the counter both live in shared memory; the lock travels to the workers as its handle.
const mutex = new SharedMutex();
const counter = new Int32Array(new SharedArrayBuffer(12));

function runWorker(job: CounterJob): Promise<void> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./start-worker.mjs', import.meta.url), { workerData: job });
    worker.once('error', reject);
    worker.once('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`worker exited with code ${code}`)),
    );
  });
}

async function count(mode: Mode): Promise<{ total: number; ms: number }> {
  counter.fill(0);
  const done = Promise.all(
    Array.from({ length: threads }, () => runWorker({ lock: mutex.handle, counter, increments, mode })),
  );
  // Once every thread is ready, let them all go at once.
  while (Atomics.load(counter, 1) < threads) await new Promise((resolve) => setTimeout(resolve, 5));
  const started = performance.now();
  Atomics.store(counter, 2, 1);
  Atomics.notify(counter, 2);
  await done;
  return { total: counter[0]!, ms: performance.now() - started };
}

console.log(
  `${threads} threads x ${increments.toLocaleString('en-US')} increments = ${expected.toLocaleString('en-US')} expected\n`,
);
console.log('mode          total        lost updates   time');
let exact = true;
for (const mode of ['no lock', 'lockSync()', 'run()'] as const) {
  const { total, ms } = await count(mode);
  const lost = expected - total;
  if (mode !== 'no lock' && lost !== 0) exact = false;
  console.log(
    `${mode.padEnd(12)}  ${total.toLocaleString('en-US').padStart(11)}  ${lost.toLocaleString('en-US').padStart(13)}   ${ms.toFixed(0).padStart(5)} ms`,
  );
}
console.log(
  exact
    ? '\nUnder the lock every update counts; without it, threads overwrite each other (how many depends on timing).'
    : '\nUpdates were lost under the lock: this is a bug, please report it.',
);
if (!exact) process.exitCode = 1;
