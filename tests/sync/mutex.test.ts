import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClosedError, Mutex } from '../../src/sync/index.js';
import { flush, rejectionOf, stateOf } from '../helpers.js';

describe('Mutex', () => {
  it('reports locked and pending', async () => {
    const mutex = new Mutex();
    expect(mutex.locked).toBe(false);
    const lock = await mutex.lock();
    expect(mutex.locked).toBe(true);
    const a = mutex.lock();
    const b = mutex.lock();
    expect(mutex.pending).toBe(2);
    lock.release();
    expect(mutex.locked).toBe(true); // handed straight to the next waiter
    expect(mutex.pending).toBe(1);
    (await a).release();
    (await b).release();
    expect(mutex.locked).toBe(false);
    expect(mutex.pending).toBe(0);
  });

  it('hands the lock over directly, so nobody can take it between release and the next waiter', async () => {
    const mutex = new Mutex();
    const lock = mutex.tryLock()!;
    const next = mutex.lock();
    lock.release();
    expect(mutex.tryLock()).toBeUndefined();
    expect(await stateOf(next)).toBe('fulfilled');
  });

  it('names itself in its error messages', async () => {
    const mutex = new Mutex();
    expect(await rejectionOf(mutex.lock({ timeout: -3 }))).toEqual(
      new RangeError('Mutex.lock: timeout must be a non-negative number of milliseconds, got -3'),
    );
    expect(await rejectionOf(mutex.run(null as unknown as () => void))).toEqual(
      new TypeError('Mutex.run: fn must be a function, got null'),
    );
    expect(await rejectionOf(mutex.run(() => 1, { signal: 1 as unknown as AbortSignal }))).toEqual(
      new TypeError('Mutex.run: signal must be an AbortSignal, got 1'),
    );
  });

  it('starts run(fn) in a later microtask even when free, and after the caller continues', async () => {
    const mutex = new Mutex();
    const log: string[] = [];
    const done = mutex.run(() => log.push('fn'));
    log.push('caller');
    await done;
    expect(log).toEqual(['caller', 'fn']);
  });

  it('keeps waiters of run and lock in one FIFO queue', async () => {
    const mutex = new Mutex();
    const held = mutex.tryLock()!;
    const log: string[] = [];
    const r1 = mutex.run(() => log.push('run1'));
    const l2 = mutex.lock().then((l) => (log.push('lock2'), l));
    const r3 = mutex.run(async () => log.push('run3'));
    held.release();
    await r1;
    (await l2).release();
    await r3;
    expect(log).toEqual(['run1', 'lock2', 'run3']);
  });

  it('a thenable returned by fn is adopted once and the lock released after it settles', async () => {
    const mutex = new Mutex();
    let settle!: (value: number) => void;
    const thenable = {
      then(resolve: (value: number) => void): void {
        settle = resolve;
      },
    } as PromiseLike<number>;
    const result = mutex.run(() => thenable);
    await flush();
    expect(mutex.locked).toBe(true);
    settle(5);
    expect(await result).toBe(5);
    expect(mutex.locked).toBe(false);
  });
});

describe('Mutex: cancellation (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('times out with a message naming Mutex.lock and leaves no timer or waiter behind', async () => {
    const mutex = new Mutex();
    mutex.tryLock();
    const outcome = rejectionOf(mutex.lock({ timeout: 25 }));
    expect(mutex.pending).toBe(1);
    await vi.advanceTimersByTimeAsync(25);
    const error = (await outcome) as DOMException;
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toBe('Mutex.lock timed out after 25 ms');
    expect(mutex.pending).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an aborted waiter in the middle of the queue leaves without disturbing the others', async () => {
    const mutex = new Mutex();
    const held = mutex.tryLock()!;
    const controller = new AbortController();
    const first = mutex.lock();
    const middle = mutex.lock({ signal: controller.signal, timeout: 1_000 });
    const last = mutex.lock();
    controller.abort('changed my mind');
    expect(await rejectionOf(middle)).toBe('changed my mind');
    expect(mutex.pending).toBe(2);
    expect(vi.getTimerCount()).toBe(0);
    held.release();
    (await first).release();
    (await last).release();
    expect(mutex.locked).toBe(false);
  });
});

describe('Mutex: close', () => {
  it('rejects pending and later lock/run calls with a ClosedError; a held lock stays valid', async () => {
    const mutex = new Mutex();
    const held = mutex.tryLock()!;
    const waiting = mutex.lock();
    const fn = vi.fn();
    const running = mutex.run(fn);
    expect(mutex.closed).toBe(false);
    mutex.close();
    expect(mutex.closed).toBe(true);
    expect(mutex.pending).toBe(0);
    const error = await rejectionOf(waiting);
    expect(error).toBeInstanceOf(ClosedError);
    expect((error as Error).message).toBe('Mutex closed');
    expect(await rejectionOf(running)).toBeInstanceOf(ClosedError);
    expect(await rejectionOf(mutex.lock())).toBeInstanceOf(ClosedError);
    expect(await rejectionOf(mutex.run(() => 1))).toBeInstanceOf(ClosedError);
    expect(mutex.tryLock()).toBeUndefined();
    expect(mutex.locked).toBe(true);
    held.release();
    expect(mutex.locked).toBe(false);
    expect(mutex.tryLock()).toBeUndefined();
    expect(fn).not.toHaveBeenCalled();
  });

  it('rejects with the reason itself when one is given; only the first close counts', async () => {
    const mutex = new Mutex();
    mutex.tryLock();
    const waiting = mutex.lock({ timeout: 1_000 });
    const reason = new Error('shutting down');
    mutex.close(reason);
    mutex.close(new Error('second'));
    expect(await rejectionOf(waiting)).toBe(reason);
    expect(await rejectionOf(mutex.lock())).toBe(reason);
  });

  it('gives every rejected waiter its own ClosedError, and a closed free mutex rejects lock() too', async () => {
    const mutex = new Mutex();
    mutex.tryLock();
    const a = mutex.lock();
    const b = mutex.lock();
    mutex.close();
    const [ea, eb] = [await rejectionOf(a), await rejectionOf(b)];
    expect(ea).toBeInstanceOf(ClosedError);
    expect(ea).not.toBe(eb);
    const free = new Mutex();
    free.close();
    expect(await rejectionOf(free.lock())).toBeInstanceOf(ClosedError);
  });

  it('an already-aborted signal wins over close, as for every wait', async () => {
    const mutex = new Mutex();
    mutex.close();
    const reason = new Error('aborted first');
    expect(await rejectionOf(mutex.lock({ signal: AbortSignal.abort(reason) }))).toBe(reason);
  });
});
