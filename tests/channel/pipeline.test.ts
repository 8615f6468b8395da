import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  Channel,
  ChannelClosedError,
  channelFrom,
  mapChannel,
  mergeChannels,
  ticker,
} from '../../src/channel/index.js';
import { flush, rejectionOf } from '../helpers.js';

async function collect<T>(ch: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of ch) out.push(value);
  return out;
}

/**
 * Lets every stage make all the progress it can: microtasks, then a real macrotask (in case the anti-starvation
 * mechanism deferred a result to one), then microtasks again.
 */
async function settle(): Promise<void> {
  await flush();
  await new Promise((resolve) => setImmediate(resolve));
  await flush();
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('channelFrom', () => {
  it('sends the values of an array, a sync generator and an async generator, then closes', async () => {
    expect(await collect(channelFrom([1, 2, 3]))).toEqual([1, 2, 3]);
    function* gen() {
      yield 'a';
      yield 'b';
    }
    expect(await collect(channelFrom(gen(), { capacity: 4 }))).toEqual(['a', 'b']);
    async function* agen() {
      yield 1;
      await Promise.resolve();
      yield 2;
    }
    expect(await collect(channelFrom(agen()))).toEqual([1, 2]);
    expect(await collect(channelFrom([Promise.resolve(5), 6]))).toEqual([5, 6]);
  });

  it('does not touch the source during the call, and pulls only as fast as values are taken', async () => {
    let pulled = 0;
    function* source() {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield i;
      }
    }
    const ch = channelFrom(source(), { capacity: 2 });
    expect(pulled).toBe(0);
    await settle();
    // two buffered, one in the pump's hands waiting for room
    expect(pulled).toBe(3);
    expect(ch.size).toBe(2);
    await ch.receive();
    await settle();
    expect(pulled).toBe(4);
  });

  it('closes the channel with the error the source throws, after the values before it', async () => {
    const failure = new Error('read failed');
    async function* source() {
      yield 1;
      throw failure;
    }
    const ch = channelFrom(source());
    expect(await ch.receive()).toBe(1);
    expect(await rejectionOf(ch.receive())).toBe(failure);
  });

  it('abort closes the channel with the reason and stops the source (its finally runs)', async () => {
    const controller = new AbortController();
    let finalized = false;
    async function* source() {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        finalized = true;
      }
    }
    const ch = channelFrom(source(), { signal: controller.signal });
    expect(await ch.receive()).toBe(0);
    const reason = new Error('enough');
    controller.abort(reason);
    expect(ch.closed).toBe(true);
    expect(await rejectionOf(collect(ch))).toBe(reason);
    await vi.waitFor(() => expect(finalized).toBe(true));
  });

  it('abort closes the channel even while the source is stuck', async () => {
    const controller = new AbortController();
    const never = deferred<IteratorResult<number>>();
    const source: AsyncIterable<number> = { [Symbol.asyncIterator]: () => ({ next: () => never.promise }) };
    const ch = channelFrom(source, { signal: controller.signal });
    const pending = ch.receive();
    controller.abort();
    expect(((await rejectionOf(pending)) as Error).name).toBe('AbortError');
  });

  it('an already-aborted signal yields a channel closed with the reason, and never reads the source', async () => {
    let touched = false;
    function* source() {
      touched = true;
      yield 1;
    }
    const reason = new Error('before');
    const ch = channelFrom(source(), { signal: AbortSignal.abort(reason) });
    expect(await rejectionOf(ch.receive())).toBe(reason);
    await settle();
    expect(touched).toBe(false);
  });

  it('closing the channel from the consuming side stops the source', async () => {
    let finalized = false;
    let pulled = 0;
    function* source() {
      try {
        for (;;) yield pulled++;
      } finally {
        finalized = true;
      }
    }
    const ch = channelFrom(source());
    expect(await ch.receive()).toBe(0);
    ch.close();
    await settle();
    expect(finalized).toBe(true);
    expect(pulled).toBeLessThanOrEqual(2);
  });

  it('validates its arguments synchronously', () => {
    expect(() => channelFrom(42 as never)).toThrow(
      new TypeError('channelFrom: source must be an iterable or an async iterable, got 42'),
    );
    expect(() => channelFrom([], { capacity: -1 })).toThrow(
      new RangeError('channelFrom: capacity must be a non-negative integer or Infinity, got -1'),
    );
    expect(() => channelFrom([], { signal: 'x' as never })).toThrow(TypeError);
    expect(() => channelFrom([], 1 as never)).toThrow(
      new TypeError('channelFrom: options must be an object, got 1'),
    );
  });
});

describe('mergeChannels', () => {
  it('forwards every value of every input and closes once all inputs are closed and drained', async () => {
    const a = new Channel<number>(8);
    const b = new Channel<string>(8);
    const merged = mergeChannels([a, b], { capacity: 2 });
    const collecting = collect(merged);
    for (let i = 0; i < 20; i++) await (i % 2 === 0 ? a.send(i) : b.send(`s${i}`));
    a.close();
    await settle();
    expect(merged.closed).toBe(false); // b is still open
    b.close();
    const out = await collecting;
    expect(out.filter((v) => typeof v === 'number')).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    expect(out.filter((v) => typeof v === 'string')).toEqual([
      's1',
      's3',
      's5',
      's7',
      's9',
      's11',
      's13',
      's15',
      's17',
      's19',
    ]);
    expect(a.pendingReceivers + b.pendingReceivers).toBe(0);
  });

  it('an empty list of inputs gives a channel that closes at once', async () => {
    expect(await collect(mergeChannels([]))).toEqual([]);
  });

  it('an input closed with a reason closes the output with it', async () => {
    const a = new Channel<number>();
    const b = new Channel<number>();
    const merged = mergeChannels([a, b]);
    const failure = new Error('input broke');
    a.close(failure);
    expect(await rejectionOf(merged.receive())).toBe(failure);
    expect(b.pendingReceivers).toBe(0);
  });

  it('abort or closing the output stops forwarding without taking more from the inputs', async () => {
    const a = new Channel<number>(4);
    const controller = new AbortController();
    const merged = mergeChannels([a], { signal: controller.signal });
    await settle();
    expect(a.pendingReceivers).toBe(1);
    controller.abort();
    expect(a.pendingReceivers).toBe(0);
    a.trySend(1);
    await settle();
    expect(a.size).toBe(1); // not taken
    expect(((await rejectionOf(merged.receive())) as Error).name).toBe('AbortError');
    expect(a.closed).toBe(false);

    const b = new Channel<number>(4);
    const out = mergeChannels([b]);
    await settle();
    out.close();
    expect(b.pendingReceivers).toBe(0);
    b.trySend(2);
    await settle();
    expect(b.size).toBe(1);
  });

  it('validates its arguments synchronously', () => {
    expect(() => mergeChannels('ab' as never)).toThrow(
      new TypeError('mergeChannels: inputs must be an array of Channels, got "ab"'),
    );
    expect(() => mergeChannels([new Channel(), {} as never])).toThrow(
      new TypeError('mergeChannels: inputs[1] must be a Channel, got an object'),
    );
  });
});

describe('mapChannel', () => {
  it('maps in input order by default, with at most `concurrency` calls in flight', async () => {
    const input = channelFrom(Array.from({ length: 30 }, (_, i) => i));
    let running = 0;
    let peak = 0;
    const output = mapChannel(
      input,
      async (n) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, (n * 7) % 5));
        running--;
        return n * 10;
      },
      { concurrency: 4 },
    );
    expect(await collect(output)).toEqual(Array.from({ length: 30 }, (_, i) => i * 10));
    expect(peak).toBe(4);
  });

  it('ordered: false sends results as they complete, keeping every slot busy', async () => {
    const input = channelFrom([30, 1, 1, 1]);
    let running = 0;
    let peak = 0;
    const output = mapChannel(
      input,
      async (ms) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, ms));
        running--;
        return ms;
      },
      { concurrency: 2, ordered: false },
    );
    const out = await collect(output);
    expect(out.sort((a, b) => a - b)).toEqual([1, 1, 1, 30]);
    expect(out).toHaveLength(4);
    expect(peak).toBe(2);
  });

  it('with the default concurrency of 1, calls run one at a time, sync functions too', async () => {
    const calls: number[] = [];
    const output = mapChannel(channelFrom([1, 2, 3]), (n) => {
      calls.push(n);
      return `#${n}`;
    });
    expect(await collect(output)).toEqual(['#1', '#2', '#3']);
    expect(calls).toEqual([1, 2, 3]);
  });

  it.each([true, false])(
    'a failing call closes the output with its error and aborts the others (ordered: %s)',
    async (ordered) => {
      const input = new Channel<number>(Infinity);
      for (let i = 0; i < 10; i++) input.trySend(i);
      const failure = new Error('bad value');
      const aborted: number[] = [];
      const output = mapChannel(
        input,
        async (n, { signal }) => {
          if (n === 2) throw failure;
          await new Promise<void>((resolve) => {
            signal.addEventListener('abort', () => {
              aborted.push(n);
              resolve();
            });
          });
          return n;
        },
        { concurrency: 3, ordered },
      );
      expect(await rejectionOf(collect(output))).toBe(failure);
      expect(aborted.sort()).toEqual([0, 1]);
      expect(input.closed).toBe(false); // the input belongs to its producer
      expect(input.size).toBe(7); // nothing taken after the failure
    },
  );

  it('a synchronous throw is a failure like a rejection', async () => {
    const failure = new Error('sync');
    const output = mapChannel(channelFrom([1]), () => {
      throw failure;
    });
    expect(await rejectionOf(output.receive())).toBe(failure);
  });

  it.each([true, false])(
    'an input closed with a reason ends the stage with it, after earlier results (ordered: %s)',
    async (ordered) => {
      const input = new Channel<number>(4);
      const output = mapChannel(input, (n) => n + 1, { concurrency: 2, ordered, capacity: 8 });
      input.trySend(1);
      input.trySend(2);
      const failure = new Error('source failed');
      input.close(failure);
      const seen: number[] = [];
      const error = await rejectionOf(
        (async () => {
          for await (const value of output) seen.push(value);
        })(),
      );
      expect(error).toBe(failure);
      expect(seen.sort()).toEqual([2, 3]);
    },
  );

  it('abort stops the stage and closes the output with the reason', async () => {
    const input = new Channel<number>();
    const controller = new AbortController();
    const output = mapChannel(input, (n) => n, { signal: controller.signal, concurrency: 2 });
    await settle();
    const reason = new Error('stop mapping');
    controller.abort(reason);
    expect(await rejectionOf(output.receive())).toBe(reason);
    await settle();
    expect(input.pendingReceivers).toBe(0);
  });

  it('closing the output stops the stage and aborts running calls', async () => {
    const input = new Channel<number>(Infinity);
    for (let i = 0; i < 5; i++) input.trySend(i);
    const started: number[] = [];
    let abortedWith: unknown;
    const output = mapChannel(
      input,
      (n, { signal }) => {
        started.push(n);
        return new Promise<number>((_, reject) => {
          signal.addEventListener('abort', () => {
            abortedWith = signal.reason;
            reject(signal.reason as Error);
          });
        });
      },
      { concurrency: 2 },
    );
    await settle();
    expect(started).toEqual([0, 1]);
    output.close();
    await settle();
    expect(abortedWith).toBeInstanceOf(ChannelClosedError);
    expect(input.size).toBe(3);
    expect(input.pendingReceivers).toBe(0);
  });

  it('validates its arguments synchronously', () => {
    const input = new Channel<number>();
    expect(() => mapChannel({} as never, (n) => n)).toThrow(
      new TypeError('mapChannel: input must be a Channel, got an object'),
    );
    expect(() => mapChannel(input, 'f' as never)).toThrow(
      new TypeError('mapChannel: fn must be a function, got "f"'),
    );
    expect(() => mapChannel(input, (n) => n, { concurrency: 0 })).toThrow(
      new RangeError('mapChannel: concurrency must be a positive integer, got 0'),
    );
    expect(() => mapChannel(input, (n) => n, { concurrency: Infinity })).toThrow(RangeError);
    expect(() => mapChannel(input, (n) => n, { ordered: 'yes' as never })).toThrow(
      new TypeError('mapChannel: ordered must be a boolean, got "yes"'),
    );
    expect(() => mapChannel(input, (n) => n, { capacity: 0.5 })).toThrow(RangeError);
  });
});

describe('ticker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('delivers the time every interval and drops ticks a slow receiver missed', async () => {
    const ticks = ticker(100);
    await vi.advanceTimersByTimeAsync(100);
    expect(await ticks.receive()).toBe(Date.now());
    await vi.advanceTimersByTimeAsync(350); // three ticks, one buffered, two dropped
    expect(ticks.size).toBe(1);
    const first = await ticks.receive();
    expect(ticks.size).toBe(0);
    await vi.advanceTimersByTimeAsync(50);
    expect(await ticks.receive()).toBeGreaterThan(first);
    ticks.close();
  });

  it('closing the channel clears the interval at once', async () => {
    const ticks = ticker(10);
    expect(vi.getTimerCount()).toBe(1);
    ticks.close();
    expect(vi.getTimerCount()).toBe(0);
    expect(await collect(ticks)).toEqual([]);
  });

  it('abort clears the interval and closes the channel with the reason', async () => {
    const controller = new AbortController();
    const ticks = ticker(10, { signal: controller.signal });
    const pending = rejectionOf(ticks.receive());
    const reason = new Error('stop ticking');
    controller.abort(reason);
    expect(vi.getTimerCount()).toBe(0);
    expect(await pending).toBe(reason);
    const preAborted = ticker(10, { signal: AbortSignal.abort(reason) });
    expect(vi.getTimerCount()).toBe(0);
    expect(await rejectionOf(preAborted.receive())).toBe(reason);
  });

  it('validates its arguments', () => {
    expect(() => ticker(0)).toThrow(
      new RangeError('ticker: intervalMs must be a positive finite number, got 0'),
    );
    expect(() => ticker(Infinity)).toThrow(RangeError);
    expect(() => ticker(NaN)).toThrow(RangeError);
    expect(() => ticker('5' as never)).toThrow(
      new TypeError('ticker: intervalMs must be a positive number, got "5"'),
    );
    expect(() => ticker(5, { signal: 1 as never })).toThrow(TypeError);
  });
});
