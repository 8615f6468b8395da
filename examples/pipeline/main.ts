/**
 * A channel pipeline: one producer, a fan-out to several worker stages, a fan-in, and a consumer that reports
 * progress with a ticker. It runs twice: once to completion (a clean shutdown that starts when the producer closes
 * its channel and ripples down the pipeline), and once cancelled midway (one AbortSignal stops every stage).
 *
 *   npm run build && npx tsx examples/pipeline/main.ts
 *
 * WEFT_EXAMPLE_QUICK=1 runs a smaller workload.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { channelFrom, mapChannel, mergeChannels, recv, select, ticker, type Channel } from 'weftjs/channel';

const quick = process.env.WEFT_EXAMPLE_QUICK === '1';
const ORDERS = quick ? 20_000 : 400_000;
const WORKERS = 4;

interface Order {
  id: number;
  items: number;
  unitPrice: number;
}

interface PricedOrder {
  id: number;
  total: number;
  worker: number;
}

/** The producer: an async generator, pulled only as fast as the pipeline takes orders (backpressure). */
async function* generateOrders(count: number): AsyncGenerator<Order> {
  for (let id = 0; id < count; id++) yield { id, items: 1 + (id % 5), unitPrice: 100 + (id % 37) };
}

/** The work of one stage: mostly quick, with an occasional slow lookup, as real I/O would be. */
async function priceOrder(order: Order, worker: number, signal: AbortSignal): Promise<PricedOrder> {
  if (order.id % 500 === 0) await sleep(1, undefined, { signal }); // a cancelled stage cuts the wait short
  return { id: order.id, total: order.items * order.unitPrice, worker };
}

function buildPipeline(count: number, signal?: AbortSignal) {
  // producer -> orders (a bounded channel)
  const orders = channelFrom(generateOrders(count), { capacity: 256, signal });
  // fan-out: every worker stage receives from the same channel, so each order goes to exactly one of them
  const stages = Array.from({ length: WORKERS }, (_, worker) =>
    mapChannel(orders, (order, { signal }) => priceOrder(order, worker, signal), {
      concurrency: 8,
      ordered: false,
      capacity: 64,
      signal,
    }),
  );
  // fan-in: one channel with every stage's results
  const results = mergeChannels(stages, { capacity: 256, signal });
  return { channels: [orders, ...stages, results], results };
}

async function consume(results: Channel<PricedOrder>) {
  const progress = ticker(200);
  const perWorker = new Array<number>(WORKERS).fill(0);
  let count = 0;
  let revenue = 0;
  try {
    for (;;) {
      const event = await select([recv(results), recv(progress)]);
      if (event.index === 1) {
        console.log(`  ... ${count.toLocaleString('en-US')} orders priced so far`);
        continue;
      }
      if (!event.ok) break; // closed and drained: the pipeline is done
      count++;
      revenue += event.value.total;
      perWorker[event.value.worker]!++;
    }
  } finally {
    progress.close(); // stops the ticker's timer
  }
  return { count, revenue, perWorker };
}

function expectedRevenue(count: number): number {
  let total = 0;
  for (let id = 0; id < count; id++) total += (1 + (id % 5)) * (100 + (id % 37));
  return total;
}

console.log(`Pipeline: producer -> ${WORKERS} worker stages (8 calls each) -> fan-in -> consumer\n`);

// 1. Run to completion. The producer closes `orders` when the generator ends; each stage closes its output once its
//    input is drained, the fan-in closes once every stage has, and the consumer's loop ends.
{
  const { channels, results } = buildPipeline(ORDERS);
  const start = performance.now();
  const { count, revenue, perWorker } = await consume(results);
  const seconds = (performance.now() - start) / 1000;
  console.log(
    `Completed: ${count.toLocaleString('en-US')} orders in ${seconds.toFixed(2)} s ` +
      `(${Math.round(count / seconds).toLocaleString('en-US')} orders/s)`,
  );
  console.log(`  per worker: ${perWorker.map((n) => n.toLocaleString('en-US')).join(' / ')}`);
  console.log(
    `  revenue ${revenue === expectedRevenue(ORDERS) ? 'matches' : 'DOES NOT match'} the expected total`,
  );
  console.log(`  every channel closed: ${channels.every((ch) => ch.closed) ? 'yes' : 'no'}\n`);
}

// 2. Cancel midway. Aborting the signal stops the producer, every stage (their calls see the signal too) and the
//    fan-in; the consumer gets the abort reason once it has drained what was already delivered.
{
  const controller = new AbortController();
  const { channels, results } = buildPipeline(ORDERS, controller.signal);
  setTimeout(() => controller.abort(new Error('shutdown requested')), quick ? 30 : 100);
  const start = performance.now();
  try {
    await consume(results);
    console.log('Cancelled run: finished before the abort');
  } catch (error) {
    const ms = performance.now() - start;
    console.log(`Cancelled run: stopped after ${ms.toFixed(0)} ms with "${(error as Error).message}"`);
    console.log(`  every channel closed: ${channels.every((ch) => ch.closed) ? 'yes' : 'no'}`);
  }
}
