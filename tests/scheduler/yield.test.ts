import { afterEach, describe, expect, it, vi } from 'vitest';
import { macrotaskQueue } from '../../src/internal/macrotask.js';
import { sleep, yieldNow } from '../../src/scheduler/index.js';
import { expectPending, flush, rejectionOf, stateOf } from '../helpers.js';
import { macrotask } from './helpers.js';

describe('yieldNow', () => {
  it('resolves in a later macrotask, not in a microtask', async () => {
    const done = yieldNow();
    await expectPending(done);
    await done;
  });

  it('gives due timers their turn: a loop awaiting it lets a timer in within a turn or two', async () => {
    let fired = false;
    setTimeout(() => (fired = true), 0);
    const start = performance.now();
    while (performance.now() - start < 3); // the timer is due now, but the thread is busy
    let turns = 0;
    while (!fired && turns < 10) {
      await yieldNow();
      turns++;
    }
    expect(fired).toBe(true);
    expect(turns).toBeLessThanOrEqual(2);
  });

  it('a loop of awaited microtasks, by contrast, never lets the timer in', async () => {
    let fired = false;
    setTimeout(() => (fired = true), 0);
    const start = performance.now();
    while (performance.now() - start < 3);
    for (let i = 0; i < 1000; i++) await Promise.resolve();
    expect(fired).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 1));
  });

  it("uses the browser's scheduler.yield() where it exists", async () => {
    vi.resetModules();
    const yieldSpy = vi.fn(() => Promise.resolve());
    vi.stubGlobal('scheduler', { yield: yieldSpy });
    try {
      const fresh = await import('../../src/scheduler/yield.js');
      await fresh.yieldNow();
      expect(yieldSpy).toHaveBeenCalledTimes(1);
    } finally {
      vi.unstubAllGlobals();
      vi.resetModules();
    }
  });
});

describe('macrotaskQueue (host detection)', () => {
  it('prefers setImmediate', () => {
    const setImmediate = vi.fn();
    const setTimeout = vi.fn();
    const queue = macrotaskQueue({ setImmediate, MessageChannel, setTimeout });
    const callback = () => {};
    queue(callback);
    expect(setImmediate).toHaveBeenCalledWith(callback);
    expect(setTimeout).not.toHaveBeenCalled();
  });

  it('falls back to one MessageChannel, running callbacks in FIFO order in separate macrotasks', async () => {
    const created: MessageChannel[] = [];
    class CountingChannel extends MessageChannel {
      constructor() {
        super();
        created.push(this);
      }
    }
    const queue = macrotaskQueue({ MessageChannel: CountingChannel });
    const log: number[] = [];
    for (let i = 0; i < 5; i++) queue(() => log.push(i));
    await flush();
    expect(log).toEqual([]);
    await new Promise((resolve) => queue(() => resolve(undefined)));
    expect(log).toEqual([0, 1, 2, 3, 4]);
    expect(created).toHaveLength(1);
    // Reusable after draining.
    await new Promise((resolve) => queue(() => resolve(undefined)));
    for (const channel of created) channel.port1.close();
  });

  it('uses a timer only on a host with neither', () => {
    const setTimeout = vi.fn();
    const queue = macrotaskQueue({ setTimeout });
    const callback = () => {};
    queue(callback);
    expect(setTimeout).toHaveBeenCalledWith(callback, 0);
  });
});

describe('sleep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves after ms milliseconds', async () => {
    vi.useFakeTimers();
    const done = sleep(100);
    await vi.advanceTimersByTimeAsync(99);
    expect(await stateOf(done)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(await stateOf(done)).toBe('fulfilled');
  });

  it('rejects with signal.reason on abort, clears its timer and listener', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const done = sleep(1000, { signal: controller.signal });
    expect(vi.getTimerCount()).toBe(1);
    const reason = new Error('stop');
    controller.abort(reason);
    expect(await rejectionOf(done)).toBe(reason);
    expect(vi.getTimerCount()).toBe(0);
    expect(remove).toHaveBeenCalledTimes(1);
  });

  it('removes its abort listener when it resolves', async () => {
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    await sleep(1, { signal: controller.signal });
    expect(remove).toHaveBeenCalledTimes(1);
  });

  it('rejects at once for an already-aborted signal', async () => {
    expect(await rejectionOf(sleep(10, { signal: AbortSignal.abort('done') }))).toBe('done');
  });

  it('sleep(Infinity) waits for the signal only', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const done = sleep(Infinity, { signal: controller.signal });
    expect(vi.getTimerCount()).toBe(0);
    controller.abort();
    expect(((await rejectionOf(done)) as DOMException).name).toBe('AbortError');
  });

  it('sleep(0) resolves after a timer turn', async () => {
    const done = sleep(0);
    await expectPending(done);
    await macrotask();
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(await stateOf(done)).toBe('fulfilled');
  });

  it.each([
    [[-1], RangeError, 'sleep: ms must be a non-negative number, got -1'],
    [[NaN], RangeError, 'sleep: ms must be a non-negative number, got NaN'],
    [['5'], TypeError, 'sleep: ms must be a non-negative number, got "5"'],
    [[5, 'x'], TypeError, 'sleep: options must be an object, got "x"'],
    [[5, { signal: 'x' }], TypeError, 'sleep: signal must be an AbortSignal, got "x"'],
  ])('rejects (never throws) for %o', async (args, type, message) => {
    const result = (sleep as (...a: unknown[]) => Promise<void>)(...args);
    const error = await rejectionOf(result);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toBe(message);
  });
});
