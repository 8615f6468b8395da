import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Channel, ChannelClosedError } from '../../src/channel/index.js';
import { expectPending, loadGc, rejectionOf } from '../helpers.js';

function isTimeoutError(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'TimeoutError';
}

describe('Channel construction', () => {
  it('defaults to an unbuffered channel', () => {
    const ch = new Channel<number>();
    expect(ch.capacity).toBe(0);
    expect(ch.size).toBe(0);
    expect(ch.closed).toBe(false);
    expect(ch.pendingSenders).toBe(0);
    expect(ch.pendingReceivers).toBe(0);
  });

  it('accepts 0, positive integers and Infinity', () => {
    expect(new Channel(0).capacity).toBe(0);
    expect(new Channel(7).capacity).toBe(7);
    expect(new Channel(Infinity).capacity).toBe(Infinity);
    expect(new Channel(1_000_000_000).capacity).toBe(1_000_000_000);
  });

  it('names the argument and the value when rejecting a capacity', () => {
    expect(() => new Channel(-1)).toThrow(
      new RangeError('Channel: capacity must be a non-negative integer or Infinity, got -1'),
    );
    expect(() => new Channel(1.5)).toThrow(RangeError);
    expect(() => new Channel(NaN)).toThrow(
      new RangeError('Channel: capacity must be a non-negative integer or Infinity, got NaN'),
    );
    expect(() => new Channel(-Infinity)).toThrow(RangeError);
    expect(() => new Channel('3' as never)).toThrow(
      new TypeError('Channel: capacity must be a non-negative integer or Infinity, got "3"'),
    );
    expect(() => new Channel(null as never)).toThrow(TypeError);
  });

  it('validates the options', () => {
    expect(() => new Channel(1, 5 as never)).toThrow(
      new TypeError('Channel: options must be an object, got 5'),
    );
    expect(() => new Channel(1, { overflow: 'drop' as never })).toThrow(
      new TypeError(`Channel: overflow must be 'wait', 'drop-oldest' or 'drop-newest', got "drop"`),
    );
    expect(() => new Channel(0, { overflow: 'drop-oldest' })).toThrow(
      new RangeError('Channel: overflow "drop-oldest" needs a capacity of at least 1, got 0'),
    );
    expect(() => new Channel(0, { overflow: 'drop-newest' })).toThrow(RangeError);
    expect(() => new Channel(1, { onDrop: 'log' as never })).toThrow(
      new TypeError('Channel: onDrop must be a function, got "log"'),
    );
    expect(new Channel(0, { overflow: 'wait' }).capacity).toBe(0);
    expect(new Channel(Infinity, { overflow: 'drop-oldest' }).capacity).toBe(Infinity);
  });
});

describe('unbuffered (rendezvous) channel', () => {
  it('send waits until a receiver takes the value', async () => {
    const ch = new Channel<string>();
    const sent = ch.send('a');
    await expectPending(sent);
    expect(ch.pendingSenders).toBe(1);
    expect(ch.size).toBe(0); // a parked sender is not buffered
    await expect(ch.receive()).resolves.toBe('a');
    await expect(sent).resolves.toBeUndefined();
    expect(ch.pendingSenders).toBe(0);
  });

  it('receive waits until a sender arrives', async () => {
    const ch = new Channel<string>();
    const received = ch.receive();
    await expectPending(received);
    expect(ch.pendingReceivers).toBe(1);
    await ch.send('b');
    await expect(received).resolves.toBe('b');
    expect(ch.pendingReceivers).toBe(0);
  });

  it('serves senders and receivers in FIFO order', async () => {
    const ch = new Channel<number>();
    const sends = [1, 2, 3].map((n) => ch.send(n));
    expect(await Promise.all([ch.receive(), ch.receive(), ch.receive()])).toEqual([1, 2, 3]);
    await Promise.all(sends);
    const receives = [ch.receive(), ch.receive(), ch.receive()];
    for (const n of [4, 5, 6]) await ch.send(n);
    expect(await Promise.all(receives)).toEqual([4, 5, 6]);
  });

  it('trySend succeeds only with a waiting receiver; tryReceive only with a waiting sender', async () => {
    const ch = new Channel<number>();
    expect(ch.trySend(1)).toBe(false);
    expect(ch.tryReceive()).toEqual({ ok: false });
    const received = ch.receive();
    expect(ch.trySend(2)).toBe(true);
    await expect(received).resolves.toBe(2);
    const sent = ch.send(3);
    expect(ch.tryReceive()).toEqual({ ok: true, value: 3 });
    await expect(sent).resolves.toBeUndefined();
  });
});

describe('buffered channel', () => {
  it('send resolves while there is room, then waits; receive refills from the oldest waiting sender', async () => {
    const ch = new Channel<number>(2);
    await ch.send(1);
    await ch.send(2);
    expect(ch.size).toBe(2);
    const third = ch.send(3);
    const fourth = ch.send(4);
    await expectPending(third);
    expect(ch.pendingSenders).toBe(2);
    expect(ch.size).toBe(2);
    expect(await ch.receive()).toBe(1);
    await expect(third).resolves.toBeUndefined();
    await expectPending(fourth);
    expect(ch.size).toBe(2);
    expect(await ch.receive()).toBe(2);
    expect(await ch.receive()).toBe(3);
    expect(await ch.receive()).toBe(4);
    await fourth;
    expect(ch.size).toBe(0);
  });

  it('hands a value straight to a waiting receiver without buffering it', async () => {
    const ch = new Channel<number>(4);
    const received = ch.receive();
    expect(ch.trySend(9)).toBe(true);
    expect(ch.size).toBe(0);
    await expect(received).resolves.toBe(9);
  });

  it('trySend returns false when full and leaves the buffer alone', () => {
    const ch = new Channel<number>(1);
    expect(ch.trySend(1)).toBe(true);
    expect(ch.trySend(2)).toBe(false);
    expect(ch.tryReceive()).toEqual({ ok: true, value: 1 });
    expect(ch.tryReceive()).toEqual({ ok: false });
  });

  it('an unbounded channel never makes a sender wait', async () => {
    const ch = new Channel<number>(Infinity);
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 10_000; i++) {
      sends.push(ch.send(i));
      expect(ch.size).toBe(i + 1); // accepted synchronously
    }
    expect(ch.pendingSenders).toBe(0);
    await Promise.all(sends);
    for (let i = 0; i < 10_000; i++) expect(ch.tryReceive()).toEqual({ ok: true, value: i });
  });

  it('keeps FIFO order across many wraps of the ring buffer', async () => {
    const ch = new Channel<number>(3);
    const out: number[] = [];
    for (let i = 0; i < 100; i++) {
      ch.trySend(i);
      if (i % 3 === 2) for (let r = ch.tryReceive(); r.ok; r = ch.tryReceive()) out.push(r.value);
    }
    for (let r = ch.tryReceive(); r.ok; r = ch.tryReceive()) out.push(r.value);
    expect(out).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('does not keep taken values alive in the buffer', async () => {
    const ch = new Channel<object>(4);
    const ref = ((): WeakRef<object> => {
      const value = {};
      ch.trySend(value);
      return new WeakRef(value);
    })();
    ch.tryReceive();
    const gc = await loadGc();
    if (gc === undefined) return;
    await new Promise((resolve) => setImmediate(resolve)); // WeakRef targets are kept until the job ends
    gc();
    expect(ref.deref()).toBeUndefined();
  });
});

describe('overflow policies', () => {
  it('drop-oldest discards the oldest buffered value and accepts the new one', async () => {
    const dropped: number[] = [];
    const ch = new Channel<number>(2, { overflow: 'drop-oldest', onDrop: (v) => dropped.push(v) });
    expect(ch.trySend(1)).toBe(true);
    expect(ch.trySend(2)).toBe(true);
    expect(ch.trySend(3)).toBe(true);
    const sent = ch.send(4);
    expect(ch.pendingSenders).toBe(0); // accepted at once, never waits
    await sent;
    expect(dropped).toEqual([1, 2]);
    expect(ch.size).toBe(2);
    expect(await ch.receive()).toBe(3);
    expect(await ch.receive()).toBe(4);
    expect(ch.pendingSenders).toBe(0);
  });

  it('drop-newest discards the value being sent; trySend reports it and keeps it the caller’s', async () => {
    const dropped: number[] = [];
    const ch = new Channel<number>(1, { overflow: 'drop-newest', onDrop: (v) => dropped.push(v) });
    expect(ch.trySend(1)).toBe(true);
    expect(ch.trySend(2)).toBe(false);
    expect(dropped).toEqual([]); // the caller still has 2
    const sent = ch.send(3);
    expect(ch.pendingSenders).toBe(0); // send never waits
    await sent;
    expect(dropped).toEqual([3]);
    expect(ch.pendingSenders).toBe(0);
    expect(await ch.receive()).toBe(1);
    expect(ch.tryReceive()).toEqual({ ok: false });
  });

  it('with a drop policy, a waiting receiver still gets the value directly', async () => {
    const ch = new Channel<number>(1, { overflow: 'drop-newest' });
    const received = ch.receive();
    expect(ch.trySend(5)).toBe(true);
    await expect(received).resolves.toBe(5);
  });

  it('reports an exception thrown by onDrop as uncaught, without disturbing the channel', async () => {
    const reported: (() => void)[] = [];
    const spy = vi
      .spyOn(globalThis, 'queueMicrotask')
      .mockImplementation((callback) => void reported.push(callback));
    try {
      const ch = new Channel<number>(1, {
        overflow: 'drop-oldest',
        onDrop: () => {
          throw new Error('onDrop failed');
        },
      });
      ch.trySend(1);
      expect(ch.trySend(2)).toBe(true);
      expect(ch.tryReceive()).toEqual({ ok: true, value: 2 });
      expect(reported).toHaveLength(1);
      expect(() => reported[0]!()).toThrow('onDrop failed');
    } finally {
      spy.mockRestore();
    }
  });

  it('onDrop may use the channel re-entrantly', async () => {
    const ch = new Channel<number>(1, {
      overflow: 'drop-oldest',
      onDrop: (v) => {
        expect(ch.size).toBe(1);
        if (v < 3) ch.trySend(v + 10);
      },
    });
    ch.trySend(1);
    ch.trySend(2); // drops 1, which sends 11, which drops 2, which sends 12, which drops 11
    expect(ch.tryReceive()).toEqual({ ok: true, value: 12 });
  });
});

describe('closing', () => {
  it('is idempotent and keeps buffered values receivable', async () => {
    const ch = new Channel<number>(3);
    await ch.send(1);
    await ch.send(2);
    ch.close();
    ch.close();
    expect(ch.closed).toBe(true);
    expect(await ch.receive()).toBe(1);
    expect(ch.tryReceive()).toEqual({ ok: true, value: 2 });
    const error = await rejectionOf(ch.receive());
    expect(error).toBeInstanceOf(ChannelClosedError);
    expect((error as Error).name).toBe('ChannelClosedError');
  });

  it('rejects send with ChannelClosedError and makes trySend return false', async () => {
    const ch = new Channel<number>(3);
    ch.close();
    expect(await rejectionOf(ch.send(1))).toBeInstanceOf(ChannelClosedError);
    expect(ch.trySend(1)).toBe(false);
    expect(ch.size).toBe(0);
  });

  it('rejects senders still waiting with ChannelClosedError; their values are not delivered', async () => {
    const ch = new Channel<number>(1);
    await ch.send(1);
    const waiting = [ch.send(2), ch.send(3)];
    ch.close();
    for (const sent of waiting) expect(await rejectionOf(sent)).toBeInstanceOf(ChannelClosedError);
    expect(ch.pendingSenders).toBe(0);
    expect(await ch.receive()).toBe(1);
    expect(await rejectionOf(ch.receive())).toBeInstanceOf(ChannelClosedError);
  });

  it('rejects a parked sender of an unbuffered channel', async () => {
    const ch = new Channel<number>();
    const sent = ch.send(1);
    ch.close();
    expect(await rejectionOf(sent)).toBeInstanceOf(ChannelClosedError);
    expect(ch.tryReceive()).toEqual({ ok: false });
  });

  it('wakes every waiting receiver with ChannelClosedError', async () => {
    const ch = new Channel<number>();
    const receives = [ch.receive(), ch.receive()];
    ch.close();
    for (const received of receives) expect(await rejectionOf(received)).toBeInstanceOf(ChannelClosedError);
    expect(ch.pendingReceivers).toBe(0);
  });

  it('with a reason: receivers get the reason after draining; senders get ChannelClosedError caused by it', async () => {
    const ch = new Channel<number>(2);
    await ch.send(1);
    const reason = new Error('upstream failed');
    ch.close(reason);
    ch.close(new Error('ignored'));
    expect(await ch.receive()).toBe(1);
    expect(await rejectionOf(ch.receive())).toBe(reason);
    const sendError = await rejectionOf(ch.send(2));
    expect(sendError).toBeInstanceOf(ChannelClosedError);
    expect((sendError as Error).cause).toBe(reason);
  });

  it('await using closes the channel', async () => {
    let ch: Channel<number> | undefined;
    {
      await using scoped = new Channel<number>(1);
      ch = scoped;
      expect(ch.closed).toBe(false);
    }
    expect(ch.closed).toBe(true);
    await expect(ch[Symbol.asyncDispose]()).resolves.toBeUndefined();
  });
});

describe('cancellation', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('abort rejects a waiting receive with signal.reason and removes it from the queue', async () => {
    const ch = new Channel<number>();
    const controller = new AbortController();
    const received = ch.receive({ signal: controller.signal });
    expect(ch.pendingReceivers).toBe(1);
    const reason = new Error('stop');
    controller.abort(reason);
    expect(ch.pendingReceivers).toBe(0);
    expect(await rejectionOf(received)).toBe(reason);
    expect(ch.trySend(1)).toBe(false); // nobody is waiting any more
  });

  it('abort rejects a waiting send; its value is never delivered', async () => {
    const ch = new Channel<number>();
    const controller = new AbortController();
    const sent = ch.send(1, { signal: controller.signal });
    controller.abort();
    const error = (await rejectionOf(sent)) as DOMException;
    expect(error.name).toBe('AbortError');
    expect(ch.pendingSenders).toBe(0);
    expect(ch.tryReceive()).toEqual({ ok: false });
  });

  it('a cancelled waiter does not block or skip the waiters behind it', async () => {
    const ch = new Channel<string>();
    const controller = new AbortController();
    const first = ch.receive({ signal: controller.signal });
    const second = ch.receive();
    const third = ch.receive();
    controller.abort();
    await rejectionOf(first);
    await ch.send('x');
    await ch.send('y');
    expect(await second).toBe('x');
    expect(await third).toBe('y');

    const buffered = new Channel<string>(1);
    buffered.trySend('full');
    const stuck = buffered.send('a', { signal: controller.signal });
    const behind = buffered.send('b');
    await rejectionOf(stuck);
    expect(await buffered.receive()).toBe('full');
    await behind;
    expect(await buffered.receive()).toBe('b');
  });

  it('an already-aborted signal rejects at once even where the call could succeed', async () => {
    const reason = new Error('already');
    const signal = AbortSignal.abort(reason);
    const ch = new Channel<number>(4);
    expect(await rejectionOf(ch.send(1, { signal }))).toBe(reason);
    expect(ch.size).toBe(0);
    ch.trySend(2);
    expect(await rejectionOf(ch.receive({ signal }))).toBe(reason);
    expect(ch.size).toBe(1);
  });

  it('times out with a TimeoutError DOMException and leaves no trace', async () => {
    const ch = new Channel<number>();
    const received = ch.receive({ timeout: 100 });
    const receiveError = rejectionOf(received);
    const sendError = rejectionOf(new Channel<number>().send(1, { timeout: 50 }));
    await vi.advanceTimersByTimeAsync(99);
    await expectPending(received);
    await vi.advanceTimersByTimeAsync(1);
    const error = (await receiveError) as DOMException;
    expect(isTimeoutError(error)).toBe(true);
    expect(error.message).toBe('Channel.receive timed out after 100 ms');
    expect(isTimeoutError(await sendError)).toBe(true);
    expect(ch.pendingReceivers).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('clears the timer and the abort listener when the operation completes', async () => {
    const ch = new Channel<number>();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const received = ch.receive({ signal: controller.signal, timeout: 1000 });
    expect(vi.getTimerCount()).toBe(1);
    ch.trySend(1);
    expect(await received).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    expect(remove).toHaveBeenCalledTimes(1);
  });

  it('timeout 0 succeeds only if possible right now', async () => {
    const ch = new Channel<number>(1);
    await expect(ch.send(1, { timeout: 0 })).resolves.toBeUndefined();
    expect(isTimeoutError(await rejectionOf(ch.send(2, { timeout: 0 })))).toBe(true);
    await expect(ch.receive({ timeout: 0 })).resolves.toBe(1);
    expect(isTimeoutError(await rejectionOf(ch.receive({ timeout: 0 })))).toBe(true);
    expect(ch.pendingSenders + ch.pendingReceivers).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an Infinity timeout arms no timer', async () => {
    const ch = new Channel<number>();
    const received = ch.receive({ timeout: Infinity });
    expect(vi.getTimerCount()).toBe(0);
    ch.trySend(1);
    expect(await received).toBe(1);
  });

  it('rejects (never throws) on bad options', async () => {
    const ch = new Channel<number>();
    const cases: [unknown, ErrorConstructor, string][] = [
      [
        { timeout: -1 },
        RangeError,
        'Channel.send: timeout must be a non-negative number of milliseconds, got -1',
      ],
      [
        { timeout: '1' },
        TypeError,
        'Channel.send: timeout must be a non-negative number of milliseconds, got "1"',
      ],
      [{ signal: {} }, TypeError, 'Channel.send: signal must be an AbortSignal, got an object'],
      [7, TypeError, 'Channel.send: options must be an object, got 7'],
    ];
    for (const [options, type, message] of cases) {
      const sent = ch.send(1, options as never);
      const error = await rejectionOf(sent);
      expect(error).toBeInstanceOf(type);
      expect((error as Error).message).toBe(message);
    }
    const error = await rejectionOf(ch.receive({ timeout: NaN }));
    expect((error as Error).message).toBe(
      'Channel.receive: timeout must be a non-negative number of milliseconds, got NaN',
    );
    expect(ch.pendingSenders + ch.pendingReceivers).toBe(0);
  });
});

describe('async iteration', () => {
  it('yields values in order and ends when the channel is closed and drained', async () => {
    const ch = new Channel<number>(2);
    const producer = (async () => {
      for (let i = 0; i < 10; i++) await ch.send(i);
      ch.close();
    })();
    const seen: number[] = [];
    for await (const value of ch) seen.push(value);
    await producer;
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(ch.pendingReceivers).toBe(0);
  });

  it('break does not close the channel and takes nothing more', async () => {
    const ch = new Channel<number>(Infinity);
    for (const n of [1, 2, 3, 4]) ch.trySend(n);
    for await (const value of ch) {
      if (value === 2) break;
    }
    expect(ch.closed).toBe(false);
    expect(ch.size).toBe(2);
    const rest: number[] = [];
    ch.close();
    for await (const value of ch) rest.push(value);
    expect(rest).toEqual([3, 4]);
  });

  it('several loops share one channel; each value goes to exactly one of them', async () => {
    const ch = new Channel<number>();
    const consume = async (into: number[]) => {
      for await (const value of ch) into.push(value);
    };
    const a: number[] = [];
    const b: number[] = [];
    const consumers = Promise.all([consume(a), consume(b)]);
    for (let i = 0; i < 100; i++) await ch.send(i);
    ch.close();
    await consumers;
    expect([...a, ...b].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
  });

  it('throws the close reason after draining', async () => {
    const ch = new Channel<number>(1);
    ch.trySend(1);
    const reason = new Error('broken');
    ch.close(reason);
    const seen: number[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const value of ch) seen.push(value);
      })(),
    );
    expect(error).toBe(reason);
    expect(seen).toEqual([1]);
  });

  it('values({ signal }) rejects the pending step on abort and takes nothing', async () => {
    const ch = new Channel<number>();
    const controller = new AbortController();
    const iterator = ch.values({ signal: controller.signal });
    const step = iterator.next();
    expect(ch.pendingReceivers).toBe(1);
    controller.abort(new Error('user cancelled'));
    expect(((await rejectionOf(step)) as Error).message).toBe('user cancelled');
    expect(ch.pendingReceivers).toBe(0);
    expect(((await rejectionOf(iterator.next())) as Error).message).toBe('user cancelled');
    expect(ch.trySend(1)).toBe(false);
  });

  it('values({ timeout }) limits each step', async () => {
    vi.useFakeTimers();
    try {
      const ch = new Channel<number>(1);
      const iterator = ch.values({ timeout: 10 });
      ch.trySend(1);
      expect(await iterator.next()).toEqual({ value: 1, done: false });
      const step = rejectionOf(iterator.next());
      await vi.advanceTimersByTimeAsync(10);
      expect(isTimeoutError(await step)).toBe(true);
      ch.trySend(2);
      expect(await iterator.next()).toEqual({ value: 2, done: false });
    } finally {
      vi.useRealTimers();
    }
  });

  it('values() validates its options synchronously; an aborted signal is not a bad argument', async () => {
    const ch = new Channel<number>();
    expect(() => ch.values(3 as never)).toThrow(
      new TypeError('Channel.values: options must be an object, got 3'),
    );
    expect(() => ch.values({ signal: {} as never })).toThrow(TypeError);
    expect(() => ch.values({ timeout: -5 })).toThrow(RangeError);
    const reason = new Error('gone');
    const iterator = ch.values({ signal: AbortSignal.abort(reason) });
    expect(await rejectionOf(iterator.next())).toBe(reason);
  });

  it('return() ends the iterator without touching the channel', async () => {
    const ch = new Channel<number>(2);
    ch.trySend(1);
    const iterator = ch[Symbol.asyncIterator]();
    expect(iterator[Symbol.asyncIterator]()).toBe(iterator);
    expect(await iterator.return!()).toEqual({ value: undefined, done: true });
    expect(await iterator.next()).toEqual({ value: undefined, done: true });
    expect(ch.size).toBe(1);
  });

  it('a pending step ends with done when the channel closes', async () => {
    const ch = new Channel<number>();
    const iterator = ch[Symbol.asyncIterator]();
    const step = iterator.next();
    ch.close();
    expect(await step).toEqual({ value: undefined, done: true });
  });
});

describe('waiter reuse', () => {
  it('a recycled waiter still honours the options of its new operation', async () => {
    vi.useFakeTimers();
    try {
      const ch = new Channel<number>();
      // complete a hand-off in each direction so that both spare waiters exist
      const first = ch.send(1);
      await ch.receive();
      await first;
      const second = ch.receive();
      ch.trySend(2);
      await second;
      // now the spares are reused with a timeout and with a signal
      const timed = rejectionOf(ch.receive({ timeout: 5 }));
      await vi.advanceTimersByTimeAsync(5);
      expect(isTimeoutError(await timed)).toBe(true);
      const controller = new AbortController();
      const aborted = ch.send(3, { signal: controller.signal });
      controller.abort();
      expect((await rejectionOf(aborted)) as DOMException).toHaveProperty('name', 'AbortError');
      expect(ch.pendingSenders + ch.pendingReceivers).toBe(0);
      const third = ch.receive();
      await ch.send(4);
      expect(await third).toBe(4);
    } finally {
      vi.useRealTimers();
    }
  });

  it("an iterator's recycled step waiter honours its per-step timeout and signal at every step", async () => {
    vi.useFakeTimers();
    try {
      const ch = new Channel<number>();
      const controller = new AbortController();
      const iterator = ch.values({ signal: controller.signal, timeout: 10 });
      for (let i = 0; i < 3; i++) {
        const step = iterator.next(); // blocks: the same waiter is reused once it has delivered
        expect(ch.pendingReceivers).toBe(1);
        await vi.advanceTimersByTimeAsync(9);
        expect(ch.trySend(i)).toBe(true);
        expect(await step).toEqual({ value: i, done: false });
        await vi.advanceTimersByTimeAsync(20); // the delivered step's timer was cleared
      }
      const timed = rejectionOf(iterator.next());
      await vi.advanceTimersByTimeAsync(10);
      expect(isTimeoutError(await timed)).toBe(true);
      expect(ch.pendingReceivers).toBe(0);
      const aborted = iterator.next();
      controller.abort(new Error('stop'));
      expect(((await rejectionOf(aborted)) as Error).message).toBe('stop');
      expect(ch.pendingReceivers).toBe(0);
      expect(ch.trySend(9)).toBe(false);
    } finally {
      vi.useRealTimers();
    }
  });

  it('steps requested without awaiting each wait on their own and are served in order', async () => {
    const ch = new Channel<number>();
    const iterator = ch[Symbol.asyncIterator]();
    const first = iterator.next();
    await ch.send(0).then(
      () => undefined,
      () => undefined,
    );
    expect(await first).toEqual({ value: 0, done: false });
    const steps = [iterator.next(), iterator.next(), iterator.next()];
    expect(ch.pendingReceivers).toBe(3);
    for (let i = 1; i <= 3; i++) expect(ch.trySend(i)).toBe(true);
    expect(await Promise.all(steps)).toEqual([1, 2, 3].map((value) => ({ value, done: false })));
    const last = iterator.next();
    ch.close();
    expect(await last).toEqual({ value: undefined, done: true });
  });
});
