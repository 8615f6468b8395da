import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Channel, ChannelClosedError, recv, select, send } from '../../src/channel/index.js';
import { expectPending, loadGc, rejectionOf } from '../helpers.js';

describe('select: ready cases', () => {
  it('receives from a ready channel', async () => {
    const a = new Channel<number>(1);
    const b = new Channel<string>(1);
    b.trySend('hello');
    expect(await select([recv(a), recv(b)])).toEqual({ index: 1, ok: true, value: 'hello' });
    expect(b.size).toBe(0);
  });

  it('sends on a channel with room, or to a waiting receiver', async () => {
    const a = new Channel<number>();
    const b = new Channel<number>(1);
    expect(await select([send(a, 1), send(b, 2)])).toEqual({ index: 1, ok: true });
    expect(b.tryReceive()).toEqual({ ok: true, value: 2 });
    const received = a.receive();
    const result = await select([send(a, 3), send(b, 4)]);
    // exactly one of the two took effect
    if (result.index === 0) {
      expect(await received).toBe(3);
      expect(b.size).toBe(0);
    } else {
      expect(result).toEqual({ index: 1, ok: true });
      expect(a.pendingReceivers).toBe(1);
      expect(b.tryReceive()).toEqual({ ok: true, value: 4 });
      a.trySend(0);
      expect(await received).toBe(0);
    }
  });

  it('takes from a parked sender of an unbuffered channel', async () => {
    const a = new Channel<number>();
    const sent = a.send(5);
    expect(await select([recv(a)])).toEqual({ index: 0, ok: true, value: 5 });
    await expect(sent).resolves.toBeUndefined();
  });

  it('losers consume nothing when several cases are ready', async () => {
    for (let round = 0; round < 50; round++) {
      const a = new Channel<number>(1);
      const b = new Channel<number>(1);
      const c = new Channel<number>(1);
      a.trySend(1);
      b.trySend(2);
      const result = await select([recv(a), recv(b), send(c, 3)]);
      const remaining = [a.size, b.size, c.size];
      if (result.index === 0) expect(remaining).toEqual([0, 1, 0]);
      if (result.index === 1) expect(remaining).toEqual([1, 0, 0]);
      if (result.index === 2) expect(remaining).toEqual([1, 1, 1]);
    }
  });

  it('chooses fairly among ready cases', async () => {
    const a = new Channel<number>(Infinity);
    const b = new Channel<number>(Infinity);
    const c = new Channel<number>(Infinity);
    const counts = [0, 0, 0];
    const rounds = 3000;
    for (let i = 0; i < rounds; i++) {
      a.trySend(i);
      b.trySend(i);
      c.trySend(i);
      counts[(await select([recv(a), recv(b), recv(c)])).index]!++;
    }
    // expected 1000 each; the standard deviation is about 26, so these bounds are more than 10 sigma wide
    for (const count of counts) expect(count).toBeGreaterThan(700);
    for (const count of counts) expect(count).toBeLessThan(1300);
  });

  it('never starves a case, even when another is always ready', async () => {
    const busy = new Channel<number>(Infinity);
    const rare = new Channel<number>(1);
    rare.trySend(1);
    let rounds = 0;
    for (;;) {
      busy.trySend(0);
      rounds++;
      if ((await select([recv(busy), recv(rare)])).index === 1) break;
    }
    expect(rounds).toBeLessThan(200); // probability of 200 misses: 2^-200
  });
});

describe('select: blocking', () => {
  it('waits on every channel and withdraws the losers when one case fires', async () => {
    const a = new Channel<number>();
    const b = new Channel<number>();
    const out = new Channel<number>();
    const pending = select([recv(a), recv(b), send(out, 7)]);
    await expectPending(pending);
    expect([a.pendingReceivers, b.pendingReceivers, out.pendingSenders]).toEqual([1, 1, 1]);
    expect(b.trySend(2)).toBe(true);
    expect(await pending).toEqual({ index: 1, ok: true, value: 2 });
    expect([a.pendingReceivers, b.pendingReceivers, out.pendingSenders]).toEqual([0, 0, 0]);
    expect(a.trySend(1)).toBe(false); // nobody listens on a any more
    expect(out.tryReceive()).toEqual({ ok: false }); // 7 was never sent
  });

  it('a waiting send case completes when a receiver takes its value', async () => {
    const quit = new Channel<void>();
    const out = new Channel<string>();
    const pending = select([send(out, 'v'), recv(quit)]);
    await expectPending(pending);
    expect(await out.receive()).toBe('v');
    expect(await pending).toEqual({ index: 0, ok: true });
    expect(quit.pendingReceivers).toBe(0);
  });

  it('a waiting send case completes when a buffer slot frees up', async () => {
    const out = new Channel<number>(1);
    out.trySend(1);
    const pending = select([send(out, 2)]);
    await expectPending(pending);
    expect(await out.receive()).toBe(1);
    expect(await pending).toEqual({ index: 0, ok: true });
    expect(out.tryReceive()).toEqual({ ok: true, value: 2 });
  });

  it('waits in FIFO order with plain receivers of the same channel', async () => {
    const a = new Channel<number>();
    const first = a.receive();
    const second = select([recv(a)]);
    const third = a.receive();
    for (const n of [1, 2, 3]) await a.send(n);
    expect(await first).toBe(1);
    expect(await second).toEqual({ index: 0, ok: true, value: 2 });
    expect(await third).toBe(3);
  });

  it('a recv case on a channel closed while waiting completes with ok: false', async () => {
    const a = new Channel<number>();
    const b = new Channel<number>();
    const pending = select([recv(a), recv(b)]);
    b.close();
    expect(await pending).toEqual({ index: 1, ok: false });
    expect(a.pendingReceivers).toBe(0);
  });

  it('a recv case on a closed, drained channel is ready with ok: false', async () => {
    const a = new Channel<number>(1);
    a.trySend(1);
    a.close();
    expect(await select([recv(a)])).toEqual({ index: 0, ok: true, value: 1 });
    expect(await select([recv(a)])).toEqual({ index: 0, ok: false });
  });

  it('a channel closed with a reason makes select reject with it', async () => {
    const a = new Channel<number>();
    const reason = new Error('failed');
    const pending = select([recv(a)]);
    a.close(reason);
    expect(await rejectionOf(pending)).toBe(reason);
    expect(await rejectionOf(select([recv(a)]))).toBe(reason);
  });

  it('same channel twice, and recv and send on one unbuffered channel in one select', async () => {
    const a = new Channel<number>();
    const twice = select([recv(a), recv(a)]);
    a.trySend(1);
    expect(await twice).toMatchObject({ ok: true, value: 1 });
    expect(a.pendingReceivers).toBe(0);

    const both = select([recv(a), send(a, 2)]);
    await expectPending(both);
    expect([a.pendingReceivers, a.pendingSenders]).toEqual([1, 1]);
    expect(await a.receive()).toBe(2); // another party takes the send case
    expect(await both).toEqual({ index: 1, ok: true });
    expect([a.pendingReceivers, a.pendingSenders]).toEqual([0, 0]);

    const again = select([recv(a), send(a, 3)]);
    await a.send(4); // another party serves the recv case
    expect(await again).toEqual({ index: 0, ok: true, value: 4 });
    expect([a.pendingReceivers, a.pendingSenders]).toEqual([0, 0]);
  });

  it('a select serves a blocked select', async () => {
    const a = new Channel<number>();
    const receiving = select([recv(a)]);
    expect(await select([send(a, 9)])).toEqual({ index: 0, ok: true });
    expect(await receiving).toEqual({ index: 0, ok: true, value: 9 });
  });

  it('an empty select waits until cancelled, or returns the default outcome', async () => {
    const controller = new AbortController();
    const pending = select([], { signal: controller.signal });
    await expectPending(pending);
    controller.abort();
    expect(((await rejectionOf(pending)) as Error).name).toBe('AbortError');
    expect(await select([], { default: true })).toEqual({ index: -1, ok: false });
  });
});

describe('select: closed channels and default', () => {
  it('a send case on a closed channel rejects ChannelClosedError, before anything else happens', async () => {
    const closed = new Channel<number>(1);
    closed.close();
    const ready = new Channel<number>(1);
    ready.trySend(1);
    for (let i = 0; i < 20; i++) {
      expect(await rejectionOf(select([recv(ready), send(closed, 2)]))).toBeInstanceOf(ChannelClosedError);
    }
    expect(ready.size).toBe(1);
  });

  it('a waiting send case rejects ChannelClosedError when its channel closes', async () => {
    const out = new Channel<number>();
    const other = new Channel<number>();
    const pending = select([recv(other), send(out, 1)]);
    out.close();
    expect(await rejectionOf(pending)).toBeInstanceOf(ChannelClosedError);
    expect(other.pendingReceivers).toBe(0);
  });

  it('closing a channel with both a send and a recv case of one select settles it once', async () => {
    const a = new Channel<number>();
    const pending = select([send(a, 1), recv(a), send(a, 2)]);
    a.close();
    expect(await rejectionOf(pending)).toBeInstanceOf(ChannelClosedError);
    expect([a.pendingReceivers, a.pendingSenders]).toEqual([0, 0]);
  });

  it('default: true returns { index: -1, ok: false } when nothing is ready, and takes nothing', async () => {
    const a = new Channel<number>();
    const b = new Channel<number>(1);
    b.trySend(1);
    expect(await select([recv(a), send(b, 2)], { default: true })).toEqual({ index: -1, ok: false });
    expect([a.pendingReceivers, b.pendingSenders, b.size]).toEqual([0, 0, 1]);
    expect(await select([recv(a), recv(b)], { default: true })).toEqual({ index: 1, ok: true, value: 1 });
  });
});

describe('select: cancellation and validation', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('abort rejects with signal.reason and leaves no waiter behind', async () => {
    const a = new Channel<number>();
    const b = new Channel<number>();
    const controller = new AbortController();
    const pending = select([recv(a), send(b, 1)], { signal: controller.signal });
    const reason = new Error('cancel');
    controller.abort(reason);
    expect(await rejectionOf(pending)).toBe(reason);
    expect([a.pendingReceivers, b.pendingSenders]).toEqual([0, 0]);
  });

  it('times out with a TimeoutError and leaves no waiter behind', async () => {
    const a = new Channel<number>();
    const pending = rejectionOf(select([recv(a)], { timeout: 20 }));
    await vi.advanceTimersByTimeAsync(20);
    const error = (await pending) as DOMException;
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toBe('select timed out after 20 ms');
    expect(a.pendingReceivers).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('timeout 0 completes a ready case, else rejects at once', async () => {
    const a = new Channel<number>(1);
    expect(((await rejectionOf(select([recv(a)], { timeout: 0 }))) as Error).name).toBe('TimeoutError');
    a.trySend(1);
    expect(await select([recv(a)], { timeout: 0 })).toEqual({ index: 0, ok: true, value: 1 });
    expect(a.pendingReceivers).toBe(0);
  });

  it('an already-aborted signal rejects at once even when a case is ready', async () => {
    const a = new Channel<number>(1);
    a.trySend(1);
    const reason = new Error('no');
    expect(await rejectionOf(select([recv(a)], { signal: AbortSignal.abort(reason) }))).toBe(reason);
    expect(a.size).toBe(1);
  });

  it('rejects bad arguments with TypeError/RangeError naming them', async () => {
    const a = new Channel<number>();
    const cases: [() => Promise<unknown>, ErrorConstructor, string][] = [
      [() => select('x' as never), TypeError, 'select: cases must be an array, got "x"'],
      [
        () => select([recv(a), {} as never]),
        TypeError,
        'select: cases[1] must be a case made by recv() or send(), got an object',
      ],
      [
        () => select([a as never]),
        TypeError,
        'select: cases[0] must be a case made by recv() or send(), got an instance of Channel',
      ],
      [
        () => select([recv(a)], { default: 1 as never }),
        TypeError,
        'select: default must be a boolean, got 1',
      ],
      [
        () => select([recv(a)], { timeout: -1 }),
        RangeError,
        'select: timeout must be a non-negative number of milliseconds, got -1',
      ],
      [() => select([recv(a)], 'fast' as never), TypeError, 'select: options must be an object, got "fast"'],
    ];
    for (const [call, type, message] of cases) {
      const error = await rejectionOf(call());
      expect(error).toBeInstanceOf(type);
      expect((error as Error).message).toBe(message);
    }
    expect(a.pendingReceivers).toBe(0);
  });

  it('recv and send throw TypeError for a non-channel', () => {
    expect(() => recv({} as never)).toThrow(new TypeError('recv: channel must be a Channel, got an object'));
    expect(() => send(undefined as never, 1)).toThrow(
      new TypeError('send: channel must be a Channel, got undefined'),
    );
  });

  it('cases are reusable descriptors', async () => {
    const a = new Channel<number>(Infinity);
    const cases = [recv(a)] as const;
    a.trySend(1);
    a.trySend(2);
    expect(await select(cases)).toEqual({ index: 0, ok: true, value: 1 });
    expect(await select(cases)).toEqual({ index: 0, ok: true, value: 2 });
    expect(cases[0].kind).toBe('recv');
    expect(cases[0].channel).toBe(a);
  });
});

describe('select: memory', () => {
  it('stays flat over 1M blocking selects with a never-ready case', { timeout: 60_000 }, async () => {
    const never = new Channel<number>();
    const ready = new Channel<number>();
    const cases = [recv(never), recv(ready)] as const;
    const gc = await loadGc();
    const heap = (): number => {
      gc?.();
      return process.memoryUsage().heapUsed;
    };
    const iterations = 1_000_000;
    let before = 0;
    for (let i = 0; i < iterations; i++) {
      const pending = select(cases); // blocks: registers on both channels
      ready.trySend(i); // serves the second case; the first must be withdrawn
      const result = await pending;
      if (result.index !== 1 || never.pendingReceivers !== 0 || ready.pendingReceivers !== 0) {
        throw new Error(`iteration ${i}: ${JSON.stringify(result)}, waiters left ${never.pendingReceivers}`);
      }
      if (i === 10_000) before = heap();
    }
    const growth = heap() - before;
    expect(never.pendingReceivers).toBe(0);
    expect(growth).toBeLessThan(8 * 1024 * 1024); // anything per-iteration would be tens of MB
  });
});
