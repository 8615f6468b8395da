import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Waiter, waitOptionsError } from '../../src/internal/waiter.js';
import { WaitQueue } from '../../src/internal/wait-queue.js';
import { rejectionOf, stateOf } from '../helpers.js';

class TestWaiter extends Waiter<string> {
  cancelled: unknown[] = [];
  constructor(readonly queue: WaitQueue<TestWaiter>) {
    super();
  }
  get operation(): string {
    return 'Test.wait';
  }
  cancel(reason: unknown): void {
    this.cancelled.push(reason);
    this.queue.remove(this);
    this.fail(reason);
  }
}

describe('Waiter', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('grants, and removes its abort listener and timer', async () => {
    const queue = new WaitQueue<TestWaiter>();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const waiter = new TestWaiter(queue);
    queue.push(waiter);
    const promise = waiter.wait(controller.signal, 1000);
    expect(vi.getTimerCount()).toBe(1);
    queue.shift()!.grant('ok');
    await expect(promise).resolves.toBe('ok');
    expect(vi.getTimerCount()).toBe(0);
    expect(remove).toHaveBeenCalledTimes(1);
    controller.abort();
    expect(waiter.cancelled).toEqual([]);
  });

  it('rejects with the signal reason on abort, once', async () => {
    const queue = new WaitQueue<TestWaiter>();
    const controller = new AbortController();
    const waiter = new TestWaiter(queue);
    queue.push(waiter);
    const promise = waiter.wait(controller.signal, undefined);
    const reason = new Error('stop');
    controller.abort(reason);
    expect(await rejectionOf(promise)).toBe(reason);
    expect(queue.length).toBe(0);
    expect(waiter.cancelled).toEqual([reason]);
    waiter.grant('late');
    expect(await stateOf(promise)).toBe('rejected');
  });

  it('rejects with a TimeoutError DOMException after the timeout', async () => {
    const queue = new WaitQueue<TestWaiter>();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const waiter = new TestWaiter(queue);
    queue.push(waiter);
    const promise = waiter.wait(controller.signal, 50);
    await vi.advanceTimersByTimeAsync(49);
    expect(await stateOf(promise)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    const error = (await rejectionOf(promise)) as DOMException;
    expect(error).toBeInstanceOf(DOMException);
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toBe('Test.wait timed out after 50 ms');
    expect(remove).toHaveBeenCalledTimes(1);
  });

  it('arms nothing without a signal or a finite timeout', () => {
    const waiter = new TestWaiter(new WaitQueue());
    void waiter.wait(undefined, Infinity);
    expect(vi.getTimerCount()).toBe(0);
    waiter.grant('x');
  });
});

describe('waitOptionsError', () => {
  it('accepts undefined and valid options', () => {
    expect(waitOptionsError('X', undefined)).toBeUndefined();
    expect(waitOptionsError('X', { timeout: 0 })).toBeUndefined();
    expect(
      waitOptionsError('X', { timeout: Infinity, signal: new AbortController().signal }),
    ).toBeUndefined();
  });

  it('names the bad option and the value', () => {
    const bad = [
      [{ timeout: -1 }, RangeError, 'X: timeout must be a non-negative number of milliseconds, got -1'],
      [{ timeout: NaN }, RangeError, 'X: timeout must be a non-negative number of milliseconds, got NaN'],
      [{ timeout: '5' }, TypeError, 'X: timeout must be a non-negative number of milliseconds, got "5"'],
      [{ signal: {} }, TypeError, 'X: signal must be an AbortSignal, got an object'],
      [42, TypeError, 'X: options must be an object, got 42'],
    ] as const;
    for (const [opts, type, message] of bad) {
      const error = waitOptionsError('X', opts as never) as Error;
      expect(error).toBeInstanceOf(type);
      expect(error.message).toBe(message);
    }
  });

  it('returns the reason of a signal that is already aborted', () => {
    const reason = new Error('gone');
    expect(waitOptionsError('X', { signal: AbortSignal.abort(reason) })).toBe(reason);
  });
});
