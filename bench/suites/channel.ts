/**
 * weft/channel against its peers: a producer and a consumer passing values through an unbuffered (rendezvous) and a
 * buffered channel, and a consumer selecting over two channels, each beside a hand-written floor.
 */
import { AsyncQueue } from '@esfx/async-queue';
import { FixedBuffer, Repeater } from '@repeaterjs/repeater';
import { pushable } from 'it-pushable';
import { Chan, Select, recv as tsChanRecv } from 'ts-chan';
import { Channel, recv, select } from 'weft/channel';
import { runScenario, type Contender, type ScenarioResult } from '../lib/harness.js';
import type { Suite } from '../lib/suite.js';

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * The floor: the least code that moves values from one async producer to one async consumer with backpressure. A
 * ring buffer plus at most one parked sender and one parked receiver, handed off directly; no queues, no options,
 * no cancellation, no closing, no fairness to the event loop.
 */
class FloorChannel<T> {
  readonly #slots: (T | undefined)[];
  readonly #mask: number;
  #head = 0;
  #size = 0;
  #receiver: ((value: T) => void) | null = null;
  #sender: (() => void) | null = null;
  #senderValue: T | undefined = undefined;

  constructor(readonly capacity: number) {
    let length = 1;
    while (length < capacity) length *= 2;
    this.#slots = new Array<T | undefined>(length).fill(undefined);
    this.#mask = length - 1;
  }

  send(value: T): Promise<void> {
    const receiver = this.#receiver;
    if (receiver !== null) {
      this.#receiver = null;
      receiver(value);
      return RESOLVED;
    }
    if (this.#size < this.capacity) {
      this.#slots[(this.#head + this.#size++) & this.#mask] = value;
      return RESOLVED;
    }
    return new Promise<void>((resolve) => {
      this.#sender = resolve;
      this.#senderValue = value;
    });
  }

  /** Takes a value now, or returns `undefined` with `ready` false. */
  poll(): { ready: boolean; value: T | undefined } {
    if (this.#size > 0) {
      const value = this.#slots[this.#head];
      this.#slots[this.#head] = undefined;
      this.#head = (this.#head + 1) & this.#mask;
      this.#size--;
      const sender = this.#sender;
      if (sender !== null) {
        this.#sender = null;
        this.#slots[(this.#head + this.#size++) & this.#mask] = this.#senderValue;
        sender();
      }
      return { ready: true, value };
    }
    const sender = this.#sender;
    if (sender === null) return { ready: false, value: undefined };
    this.#sender = null;
    sender();
    return { ready: true, value: this.#senderValue };
  }

  receive(): Promise<T> {
    if (this.#size > 0) {
      const value = this.#slots[this.#head] as T;
      this.#slots[this.#head] = undefined;
      this.#head = (this.#head + 1) & this.#mask;
      this.#size--;
      const sender = this.#sender;
      if (sender !== null) {
        this.#sender = null;
        this.#slots[(this.#head + this.#size++) & this.#mask] = this.#senderValue;
        sender();
      }
      return Promise.resolve(value);
    }
    const sender = this.#sender;
    if (sender !== null) {
      this.#sender = null;
      sender();
      return Promise.resolve(this.#senderValue as T);
    }
    return new Promise<T>((resolve) => {
      this.#receiver = resolve;
    });
  }

  /** Registers the single consumer for the next value (used by the select floor). */
  park(receiver: (value: T) => void): void {
    this.#receiver = receiver;
  }

  unpark(): void {
    this.#receiver = null;
  }
}

/** The select floor: poll both channels from a random start; if neither is ready, park on both, first one wins. */
function floorSelect2(a: FloorChannel<number>, b: FloorChannel<number>): Promise<number> {
  const first = Math.random() < 0.5 ? a : b;
  const second = first === a ? b : a;
  let r = first.poll();
  if (r.ready) return Promise.resolve(r.value!);
  r = second.poll();
  if (r.ready) return Promise.resolve(r.value!);
  return new Promise<number>((resolve) => {
    const win = (value: number): void => {
      a.unpark();
      b.unpark();
      resolve(value);
    };
    a.park(win);
    b.park(win);
  });
}

function expectSum(sum: number, n: number, who: string): void {
  if (sum !== (n * (n - 1)) / 2) throw new Error(`${who}: wrong sum ${sum}`);
}

/** Millions of messages per second for `n` messages taking `ms`. */
function rate(n: number, ms: number): number {
  return n / ms / 1000;
}

async function timed(n: number, body: () => Promise<void>): Promise<number> {
  const start = performance.now();
  await body();
  return rate(n, performance.now() - start);
}

function pipeContenders(n: number, capacity: number): Contender[] {
  const bufferNote = capacity === 0 ? 'rendezvous' : `buffer ${capacity}`;
  return [
    {
      name: `hand-written ring buffer (${bufferNote})`,
      kind: 'floor',
      sample: () =>
        timed(n, async () => {
          const ch = new FloorChannel<number>(capacity);
          const producer = (async () => {
            for (let i = 0; i < n; i++) await ch.send(i);
          })();
          let sum = 0;
          for (let i = 0; i < n; i++) sum += await ch.receive();
          await producer;
          expectSum(sum, n, 'floor');
        }),
    },
    {
      name: `weft Channel(${capacity})`,
      kind: 'weft',
      sample: () =>
        timed(n, async () => {
          const ch = new Channel<number>(capacity);
          const producer = (async () => {
            for (let i = 0; i < n; i++) await ch.send(i);
            ch.close();
          })();
          let sum = 0;
          for (let i = 0; i < n; i++) sum += await ch.receive();
          await producer;
          expectSum(sum, n, 'weft');
        }),
    },
    {
      name: `weft Channel(${capacity}), for await`,
      kind: 'weft',
      sample: () =>
        timed(n, async () => {
          const ch = new Channel<number>(capacity);
          const producer = (async () => {
            for (let i = 0; i < n; i++) await ch.send(i);
            ch.close();
          })();
          let sum = 0;
          for await (const value of ch) sum += value;
          await producer;
          expectSum(sum, n, 'weft iterator');
        }),
    },
    ...[true, false].map(
      (guard): Contender => ({
        name: `ts-chan Chan(${capacity})${guard ? '' : ', starvation guard off'}`,
        kind: 'peer',
        sample: () =>
          timed(n, async () => {
            const ch = new Chan<number>(capacity).setUnsafe(!guard);
            const producer = (async () => {
              for (let i = 0; i < n; i++) await ch.send(i);
            })();
            let sum = 0;
            for (let i = 0; i < n; i++) sum += (await ch.recv()).value!;
            await producer;
            expectSum(sum, n, 'ts-chan');
          }),
      }),
    ),
    {
      name: `@repeaterjs/repeater (${capacity === 0 ? 'no buffer' : `FixedBuffer(${capacity})`})`,
      kind: 'peer',
      sample: () =>
        timed(n, async () => {
          const repeater = new Repeater<number>(
            async (push, stop) => {
              for (let i = 0; i < n; i++) await push(i);
              stop();
            },
            capacity === 0 ? undefined : new FixedBuffer(capacity),
          );
          let sum = 0;
          for (let i = 0; i < n; i++) sum += (await repeater.next()).value as number;
          await repeater.return();
          expectSum(sum, n, 'repeater');
        }),
    },
    {
      name: `it-pushable (onEmpty backpressure at ${capacity === 0 ? 1 : capacity})`,
      kind: 'peer',
      sample: () =>
        timed(n, async () => {
          const source = pushable<number>({ objectMode: true });
          const limit = Math.max(1, capacity);
          const producer = (async () => {
            for (let i = 0; i < n; i++) {
              source.push(i);
              if (source.readableLength >= limit) await source.onEmpty();
            }
            source.end();
          })();
          let sum = 0;
          for (let i = 0; i < n; i++) sum += (await source.next()).value as number;
          await producer;
          expectSum(sum, n, 'it-pushable');
        }),
    },
    {
      name: '@esfx/async-queue (unbounded, no backpressure)',
      kind: 'peer',
      sample: () =>
        timed(n, async () => {
          const queue = new AsyncQueue<number>();
          const producer = (async () => {
            for (let i = 0; i < n; i++) {
              queue.put(i);
              await RESOLVED;
            }
          })();
          let sum = 0;
          for (let i = 0; i < n; i++) sum += await queue.get();
          await producer;
          expectSum(sum, n, 'esfx');
        }),
    },
  ];
}

function selectContenders(n: number): Contender[] {
  const half = n / 2;
  return [
    {
      name: 'hand-written 2-way select (rendezvous)',
      kind: 'floor',
      sample: () =>
        timed(n, async () => {
          const a = new FloorChannel<number>(0);
          const b = new FloorChannel<number>(0);
          const producers = [a, b].map(async (ch, k) => {
            for (let i = k; i < n; i += 2) await ch.send(i);
          });
          let sum = 0;
          for (let i = 0; i < n; i++) sum += await floorSelect2(a, b);
          await Promise.all(producers);
          expectSum(sum, n, 'floor select');
        }),
    },
    {
      name: 'weft select([recv(a), recv(b)])',
      kind: 'weft',
      sample: () =>
        timed(n, async () => {
          const a = new Channel<number>();
          const b = new Channel<number>();
          const producers = [a, b].map(async (ch, k) => {
            for (let i = k; i < n; i += 2) await ch.send(i);
          });
          const cases = [recv(a), recv(b)] as const;
          let sum = 0;
          for (let i = 0; i < n; i++) {
            const result = await select(cases);
            if (result.ok) sum += result.value;
          }
          await Promise.all(producers);
          expectSum(sum, n, 'weft select');
        }),
    },
    ...[true, false].map(
      (guard): Contender => ({
        name: `ts-chan Select${guard ? '' : ', starvation guard off'}`,
        kind: 'peer',
        sample: () =>
          timed(n, async () => {
            const a = new Chan<number>(0).setUnsafe(!guard);
            const b = new Chan<number>(0).setUnsafe(!guard);
            const producers = [a, b].map(async (ch, k) => {
              for (let i = k; i < n; i += 2) await ch.send(i);
            });
            const selector = new Select([tsChanRecv(a), tsChanRecv(b)]);
            let sum = 0;
            for (let i = 0; i < n; i++) {
              const index = await selector.wait();
              sum += selector.recv(selector.cases[index]!).value!;
            }
            await Promise.all(producers);
            expectSum(sum, n, 'ts-chan select');
          }),
      }),
    ),
    {
      name: 'Repeater.merge of 2 repeaters (fan-in, not select)',
      kind: 'baseline',
      sample: () =>
        timed(n, async () => {
          const sources = [0, 1].map(
            (k) =>
              new Repeater<number>(async (push, stop) => {
                for (let i = k; i < n; i += 2) await push(i);
                stop();
              }),
          );
          const merged = Repeater.merge(sources);
          let sum = 0;
          for (let i = 0; i < n; i++) sum += (await merged.next()).value as number;
          await merged.return();
          expectSum(sum, n, 'repeater merge');
          void half;
        }),
    },
  ];
}

const suite: Suite = {
  name: 'channel',
  title: 'weft/channel',
  description: [
    'One producer and one consumer move N numbers (1,000,000; 200,000 with `--quick`) through a channel, each side',
    '`await`ing every operation; then one consumer `select`s N times over two unbuffered channels fed by two',
    'producers. The floor is a hand-written ring buffer that hands values straight to a parked promise: no wait',
    'queues, cancellation, closing or event-loop fairness. weft runs with its anti-starvation mechanism on (it is',
    'always on); ts-chan is shown with its starvation guard on (its default) and off. it-pushable and',
    '@esfx/async-queue have no bounded buffer: it-pushable waits for `onEmpty()` once the buffer limit is reached,',
    'and @esfx/async-queue never applies backpressure. Metric: millions of messages per second.',
  ].join(' '),
  async run({ quick, log }): Promise<ScenarioResult[]> {
    const n = quick ? 200_000 : 1_000_000;
    const rounds = quick ? 3 : 7;
    const warmup = quick ? 1 : 2;
    const results: ScenarioResult[] = [];
    for (const capacity of [0, 1024]) {
      results.push(
        await runScenario(
          {
            id: `channel-pipe-${capacity}`,
            title: `Producer to consumer, capacity ${capacity}`,
            unit: 'M msgs/s',
            higherIsBetter: true,
            target: 'weft <= 1.5x floor',
            rounds,
            warmup,
            contenders: pipeContenders(n, capacity),
          },
          log,
        ),
      );
    }
    results.push(
      await runScenario(
        {
          id: 'channel-select-2',
          title: 'select over 2 unbuffered channels',
          unit: 'M msgs/s',
          higherIsBetter: true,
          rounds,
          warmup,
          contenders: selectContenders(n),
        },
        log,
      ),
    );
    return results;
  },
};

export default suite;
