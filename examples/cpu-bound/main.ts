/**
 * CPU-bound work, inline versus on a WorkerPool: compress and hash many buffers, check that both ways agree, and
 * print the speedup.
 *
 *   npm run build && npx tsx examples/cpu-bound/main.ts
 *   WEFT_EXAMPLE_QUICK=1 npx tsx examples/cpu-bound/main.ts   # fewer, smaller buffers
 */
import { WorkerPool } from 'weftjs/pool';
import * as worker from './worker.js';
import type { Summary } from './worker.js';

const quick = process.env.WEFT_EXAMPLE_QUICK === '1';
const count = quick ? 12 : 32;
const size = quick ? 256 * 1024 : 1024 * 1024;

/** Text-like bytes (compressible, unlike random ones), the same on every run. */
function makeBuffer(seed: number): Uint8Array {
  const words = [
    'lorem',
    'ipsum',
    'weft',
    'warp',
    'thread',
    'pool',
    'worker',
    'yield',
    'signal',
    'batch',
    '\n',
  ];
  const bytes = new Uint8Array(size);
  let state = seed * 2654435761;
  let at = 0;
  while (at < size) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const word = words[state % words.length]!;
    for (let i = 0; i < word.length && at < size; i++) bytes[at++] = word.charCodeAt(i);
    if (at < size) bytes[at++] = 32;
  }
  return bytes;
}

const buffers = Array.from({ length: count }, (_, i) => makeBuffer(i + 1));
const megabytes = (count * size) / 2 ** 20;
console.log(`${count} buffers, ${megabytes} MiB in all: deflate + SHA-256 each`);

await using pool = new WorkerPool({ worker: new URL('./start-worker.mjs', import.meta.url) });

function runInline(): Summary[] {
  return buffers.map((buffer) => worker.compress(buffer));
}

function runOnPool(): Promise<Summary[]> {
  return Promise.all(
    buffers.map((buffer) => {
      // Move a copy to the worker instead of cloning it (the original stays here for the next pass).
      const copy = buffer.slice();
      return pool.run<Summary>('compress', [copy], { transfer: [copy.buffer] });
    }),
  );
}

// One untimed pass each: it starts the threads and warms up both sides, as in a long-running program.
runInline();
await runOnPool();

let started = performance.now();
const inline = runInline();
const inlineMs = performance.now() - started;

started = performance.now();
const pooled = await runOnPool();
const poolMs = performance.now() - started;

// The typed proxy: arguments and results are checked against worker.ts.
const api = pool.api<typeof worker>();
const check = await api.compress(buffers[0]!);
const agree =
  check.sha256 === inline[0]!.sha256 && pooled.every((summary, i) => summary.sha256 === inline[i]!.sha256);
const packed = pooled.reduce((sum, s) => sum + s.compressedBytes, 0) / 2 ** 20;
const { threads, runTime } = pool.stats;
console.log(`compressed to ${packed.toFixed(2)} MiB; pool and inline results ${agree ? 'agree' : 'DIFFER'}`);
console.log(`inline:            ${inlineMs.toFixed(0).padStart(6)} ms`);
console.log(
  `WorkerPool (${threads} threads): ${poolMs.toFixed(0).padStart(6)} ms   (task p50 ${runTime.p50.toFixed(1)} ms)`,
);
console.log(`speedup:           ${(inlineMs / poolMs).toFixed(2)}x`);
if (!agree) process.exitCode = 1;
