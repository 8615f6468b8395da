/**
 * Cooperative multitasking on one thread: an HTTP server that stays responsive while it runs a long computation.
 *
 * It starts a server on 127.0.0.1 (random port) and a client in a worker thread (its own event loop, so its clock is
 * not frozen with ours) that sends a request every few milliseconds and times each response. The server then runs
 * the same computation twice: once as a plain loop, which blocks the thread, and once as a task on the weft
 * Scheduler, which yields between slices of 5 ms. It prints the request latencies of both runs.
 *
 *   npm run build && npx tsx examples/cooperative-server/main.ts
 *   WEFT_EXAMPLE_QUICK=1 npx tsx examples/cooperative-server/main.ts   (shorter computation, under 5 s)
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { Scheduler, sleep } from 'weftjs/scheduler';

const quick = process.env.WEFT_EXAMPLE_QUICK === '1';
const COMPUTE_MS = quick ? 400 : 1_500; // how long the computation takes
const INTERVAL_MS = 20; // the client sends a request this often
const REQUESTS = Math.ceil(COMPUTE_MS / INTERVAL_MS) + 5; // bounded: covers the computation and a little more

// --- The computation ------------------------------------------------------------------------------------------------

/**
 * Counts the primes below `limit` by trial division. Written once, as a generator: each bare `yield` marks a point
 * where the work may be paused. Run to the end in a plain loop it blocks like any loop; on the Scheduler the same
 * yields let the event loop in every 5 ms.
 */
function* countPrimes(limit: number): Generator<undefined, number> {
  let count = 0;
  for (let n = 2; n < limit; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
    yield;
  }
  return count;
}

/** Runs a generator to the end without ever giving way: the blocking version. */
function runBlocking<T>(gen: Generator<unknown, T>): T {
  for (;;) {
    const step = gen.next();
    if (step.done) return step.value;
  }
}

/** The `limit` that makes countPrimes take about `ms` on this machine. */
function calibrate(ms: number): number {
  let limit = 20_000;
  for (;;) {
    const start = performance.now();
    runBlocking(countPrimes(limit));
    const elapsed = performance.now() - start;
    if (elapsed >= 30) return Math.round(limit * (ms / elapsed) ** (2 / 3)); // the work grows like limit^1.5
    limit *= 2;
  }
}

// --- The server and the client --------------------------------------------------------------------------------------

async function startServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('pong');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/ping` };
}

/** The client, in a worker thread: sends `count` requests `intervalMs` apart and reports each one's latency. */
const CLIENT = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', async ({ url, count, intervalMs }) => {
  const start = performance.now();
  const latencies = await Promise.all(Array.from({ length: count }, async (_, i) => {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, start + i * intervalMs - performance.now())));
    const sent = performance.now();
    const response = await fetch(url);
    await response.text();
    return performance.now() - sent;
  }));
  parentPort.postMessage(latencies);
});
`;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Run {
  label: string;
  primes: number;
  computeMs: number;
  latencies: number[];
}

/** Starts the client's requests, runs `compute` meanwhile, and collects the latencies. */
async function measure(
  client: Worker,
  url: string,
  label: string,
  compute: () => number | PromiseLike<number>,
): Promise<Run> {
  const reply = new Promise<number[]>((resolve) => client.once('message', resolve));
  client.postMessage({ url, count: REQUESTS, intervalMs: INTERVAL_MS });
  await sleep(INTERVAL_MS); // the first request goes out while the server is idle
  const start = performance.now();
  const primes = await compute();
  const computeMs = performance.now() - start;
  const latencies = (await reply).sort((a, b) => a - b);
  return { label, primes, computeMs, latencies };
}

// --- Main -----------------------------------------------------------------------------------------------------------

const limit = calibrate(COMPUTE_MS);
const { server, url } = await startServer();
const client = new Worker(CLIENT, { eval: true });
try {
  const blocking = await measure(client, url, 'plain loop (blocks the thread)', () =>
    runBlocking(countPrimes(limit)),
  );

  await using scheduler = new Scheduler({ sliceMs: 5 });
  const cooperative = await measure(client, url, 'weft Scheduler, 5 ms slices', () =>
    scheduler.spawn(() => countPrimes(limit), { name: 'count-primes' }),
  );
  if (cooperative.primes !== blocking.primes) throw new Error('the two runs disagree');

  console.log(
    `Counting the ${blocking.primes.toLocaleString('en-US')} primes below ${limit.toLocaleString('en-US')},`,
  );
  console.log(`while a client sends a request every ${INTERVAL_MS} ms (${REQUESTS} requests per run):\n`);
  const row = (cells: string[]) =>
    cells[0]!.padEnd(32) +
    cells
      .slice(1)
      .map((cell) => cell.padStart(13))
      .join('');
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  console.log(row(['computation', 'time', 'latency p50', 'p95', 'max']));
  for (const run of [blocking, cooperative]) {
    const { latencies } = run;
    console.log(
      row([
        run.label,
        ms(run.computeMs),
        ms(percentile(latencies, 50)),
        ms(percentile(latencies, 95)),
        ms(latencies.at(-1)!),
      ]),
    );
  }
  const { slices, meanSliceMs, maxSliceMs } = scheduler.stats;
  console.log(
    `\nThe Scheduler ran the work in ${slices} slices (mean ${meanSliceMs.toFixed(1)} ms, longest ` +
      `${maxSliceMs.toFixed(1)} ms)\nand served the requests in between; the plain loop made them wait until it finished.`,
  );
} finally {
  await client.terminate();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
