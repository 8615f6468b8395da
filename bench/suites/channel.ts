/**
 * weftjs/channel against its peers: a producer and a consumer passing values through an unbuffered (rendezvous) and a
 * buffered channel, and a consumer selecting over two channels, each beside a hand-written floor.
 */
import { AsyncQueue } from '@esfx/async-queue';
import { FixedBuffer, Repeater } from '@repeaterjs/repeater';
import { pushable } from 'it-pushable';
import { Chan, Select, recv as tsChanRecv } from 'ts-chan';
import { Channel, recv, select } from 'weftjs/channel';
import { runScenario, type Contender, type ScenarioResult } from '../lib/harness.js';
import type { Suite } from '../lib/suite.js';

const RESOLVED: Promise<void> = Promise.resolve();

/** One macrotask turn. */
function macrotask(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

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

/** Each sample moves its messages in this many batches and reports the fastest batch. */
const BATCHES = 4;

/**
 * A contender that moves `n` messages per sample and reports millions of messages per second: the rate of the
 * fastest of {@link BATCHES} batches, so that a burst of load from other processes on the machine (which only ever
 * slows a batch down) does not decide the figure. Every contender is measured the same way.
 */
function contender(
  name: string,
  kind: Contender['kind'],
  n: number,
  body: (n: number) => Promise<void>,
): Contender {
  const batch = n / BATCHES;
  return {
    name,
    kind,
    sample: async () => {
      let best = 0;
      for (let b = 0; b < BATCHES; b++) {
        const start = performance.now();
        await body(batch);
        best = Math.max(best, batch / (performance.now() - start) / 1000);
      }
      return best;
    },
  };
}

/** How many messages each contender moves: the floor and weft `n`, peers that are several times slower fewer. */
interface Sizes {
  n: number;
  slow: number;
  slowest: number;
}

function pipeContenders({ n, slow }: Sizes, capacity: number): Contender[] {
  const bufferNote = capacity === 0 ? 'rendezvous' : `${capacity}`;
  return [
    contender(`ring buffer (${bufferNote})`, 'floor', n, async (n) => {
      const ch = new FloorChannel<number>(capacity);
      const producer = (async () => {
        for (let i = 0; i < n; i++) await ch.send(i);
      })();
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await ch.receive();
      await producer;
      expectSum(sum, n, 'floor');
    }),
    contender(`weft Channel(${capacity})`, 'weft', n, async (n) => {
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
    contender(`weft Channel(${capacity}) for await`, 'weft', n, async (n) => {
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
    ...[true, false].map((guard) =>
      contender(`ts-chan${guard ? '' : ' (guard off)'}`, 'peer', slow, async (n) => {
        const ch = new Chan<number>(capacity).setUnsafe(!guard);
        const producer = (async () => {
          for (let i = 0; i < n; i++) await ch.send(i);
        })();
        let sum = 0;
        for (let i = 0; i < n; i++) sum += (await ch.recv()).value!;
        await producer;
        expectSum(sum, n, 'ts-chan');
      }),
    ),
    contender(`Repeater${capacity === 0 ? '' : ` FixedBuffer(${capacity})`}`, 'peer', slow, async (n) => {
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
    contender('it-pushable + onEmpty()', 'peer', slow, async (n) => {
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
    contender('esfx AsyncQueue (unbounded)', 'peer', n, async (n) => {
      const queue = new AsyncQueue<number>();
      const producer = (async () => {
        for (let i = 0; i < n; i++) {
          queue.put(i);
          // No backpressure to wait for: pause one macrotask per 1024 values so that the queue stays short.
          if ((i & 1023) === 1023) await macrotask();
        }
      })();
      let sum = 0;
      for (let i = 0; i < n; i++) sum += await queue.get();
      await producer;
      expectSum(sum, n, 'esfx');
    }),
  ];
}

function selectContenders({ n, slow, slowest }: Sizes): Contender[] {
  return [
    contender('2-way select', 'floor', n, async (n) => {
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
    contender('weft select', 'weft', n, async (n) => {
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
    ...[true, false].map((guard) =>
      contender(`ts-chan Select${guard ? '' : ' (guard off)'}`, 'peer', slow, async (n) => {
        const a = new Chan<number>(0).setUnsafe(!guard);
        const b = new Chan<number>(0).setUnsafe(!guard);
        const producers = [a, b].map(async (ch, k) => {
          for (let i = k; i < n; i += 2) await ch.send(i);
        });
        const selector = new Select([tsChanRecv(a), tsChanRecv(b)]);
        let sum = 0;
        for (let i = 0; i < n; i++) {
          const index = await selector.wait();
          sum += selector.recv(selector.cases[index]).value!;
        }
        await Promise.all(producers);
        expectSum(sum, n, 'ts-chan select');
      }),
    ),
    contender('Repeater.merge (fan-in)', 'baseline', slowest, async (n) => {
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
    }),
  ];
}

const suite: Suite = {
  name: 'channel',
  title: 'weftjs/channel',
  description: [
    'One producer and one consumer move numbers through a channel, each side `await`ing every operation; then one',
    'consumer `select`s over two unbuffered channels fed by two producers. The floor is a hand-written ring buffer',
    'that hands values straight to a parked promise (and, for select, polls both from a random start and parks on',
    'both): no wait queues, cancellation, closing or event-loop fairness. weft runs with its anti-starvation',
    'mechanism on (it is always on); "for await" consumes with an async iterator instead of `receive()`. ts-chan',
    'is shown with its starvation guard on (its default) and off (`setUnsafe(true)`). Repeater is',
    '@repeaterjs/repeater (no buffer, or a FixedBuffer); Repeater.merge is a fan-in, not a select, shown for',
    'reference. it-pushable has no bounded buffer, so its producer waits for `onEmpty()` at the buffer size (1 for',
    'the rendezvous case); @esfx/async-queue has no backpressure at all (its producer pauses one macrotask every',
    '1024 values, which keeps its queue short). Metric: millions of messages per second. The floor, weft and',
    '@esfx/async-queue move 1,000,000 values per sample; the peers that are several times slower move 200,000',
    '(Repeater.merge 50,000), which keeps a full run within a few minutes and does not change a rate. Each sample',
    'moves its values in 4 equal batches and reports the fastest one (as `timeit` reports the best of its repeats),',
    'so that load from other processes does not decide a figure; every contender is measured the same way.',
    '`--quick` divides every count by 5.',
  ].join(' '),
  async run({ quick, log }): Promise<ScenarioResult[]> {
    const scale = quick ? 5 : 1;
    const sizes: Sizes = { n: 1_000_000 / scale, slow: 200_000 / scale, slowest: 50_000 / scale };
    const rounds = quick ? 3 : 11;
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
            contenders: pipeContenders(sizes, capacity),
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
          contenders: selectContenders(sizes),
        },
        log,
      ),
    );
    return results;
  },
};

export default suite;
