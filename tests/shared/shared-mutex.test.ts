/**
 * SharedMutex on one thread: the Mutex rules, the handle, the blocking form's guard rails and recovery. A second
 * view of the same memory (`from(structuredClone(handle))`) stands in for another thread: grants to it travel
 * through shared memory and Atomics.waitAsync exactly as they would across threads.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { currentThreadId, SharedMutex, type SharedHandle } from '../../src/shared/index.js';
import { expectPending, flush, rejectionOf, stateOf } from '../helpers.js';
import { expectInvariants } from './invariants.js';

/** Another view of the same lock, as another thread would open it. */
function otherView(mutex: SharedMutex): SharedMutex {
  return SharedMutex.from(structuredClone(mutex.handle));
}

/** Resolves once `condition` holds (checked every few ms), or fails after `ms`. */
async function until(condition: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('SharedMutex basics', () => {
  it('locks, reports locked/pending/owner, and hands over in FIFO order', async () => {
    const mutex = new SharedMutex();
    expect(mutex.locked).toBe(false);
    expect(mutex.owner).toBeUndefined();
    const first = await mutex.lock();
    expect(mutex.locked).toBe(true);
    expect(mutex.owner).toBe(currentThreadId());
    const order: number[] = [];
    const waiters = [1, 2, 3].map((i) => mutex.lock().then((permit) => (order.push(i), permit)));
    expect(mutex.pending).toBe(3);
    await expectPending(waiters[0]!);
    first.release();
    const second = await waiters[0]!;
    expect(order).toEqual([1]);
    expect(mutex.pending).toBe(2);
    second.release();
    (await waiters[1]!).release();
    (await waiters[2]!).release();
    expect(order).toEqual([1, 2, 3]);
    expect(mutex.locked).toBe(false);
    expect(mutex.pending).toBe(0);
  });

  it('release is idempotent and works with using', async () => {
    const mutex = new SharedMutex();
    {
      using _lock = await mutex.lock();
      expect(mutex.locked).toBe(true);
    }
    expect(mutex.locked).toBe(false);
    const permit = mutex.tryLock()!;
    const next = mutex.lock();
    permit.release();
    const held = await next;
    permit.release(); // must not free the lock now held by `next`
    permit[Symbol.dispose]();
    expect(mutex.locked).toBe(true);
    held.release();
    expect(mutex.locked).toBe(false);
  });

  it('tryLock never jumps the queue', async () => {
    const mutex = new SharedMutex();
    const held = mutex.tryLock()!;
    expect(mutex.tryLock()).toBeUndefined();
    const waiter = mutex.lock();
    held.release();
    // The lock went straight to the waiter: nobody can barge in between.
    expect(mutex.tryLock()).toBeUndefined();
    (await waiter).release();
    const again = mutex.tryLock();
    expect(again).toBeDefined();
    again!.release();
  });

  it('run releases when fn returns, throws or rejects, and rejects for a non-function', async () => {
    const mutex = new SharedMutex();
    expect(await mutex.run(() => 42)).toBe(42);
    expect(await mutex.run(async () => 'x')).toBe('x');
    await expect(
      mutex.run(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    await expect(mutex.run(() => Promise.reject(new Error('nope')))).rejects.toThrow('nope');
    expect(mutex.locked).toBe(false);
    await expect(mutex.run(42 as never)).rejects.toThrow(
      new TypeError('SharedMutex.run: fn must be a function, got 42'),
    );
  });

  it('run serialises async critical sections', async () => {
    const mutex = new SharedMutex();
    let inside = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 20 }, () =>
        mutex.run(async () => {
          peak = Math.max(peak, ++inside);
          await new Promise((resolve) => setTimeout(resolve, 0));
          inside--;
        }),
      ),
    );
    expect(peak).toBe(1);
  });
});

describe('SharedMutex cancellation', () => {
  it('an already-aborted signal rejects at once, even when the lock is free', async () => {
    const mutex = new SharedMutex();
    const reason = new Error('stop');
    expect(await rejectionOf(mutex.lock({ signal: AbortSignal.abort(reason) }))).toBe(reason);
    expect(mutex.locked).toBe(false);
    expect(mutex.pending).toBe(0);
  });

  it('abort rejects with signal.reason and leaves no trace; the next waiter gets the lock', async () => {
    const mutex = new SharedMutex();
    const held = await mutex.lock();
    const controller = new AbortController();
    const aborted = mutex.lock({ signal: controller.signal });
    const next = mutex.lock();
    expect(mutex.pending).toBe(2);
    controller.abort();
    const error = await rejectionOf(aborted);
    expect(error).toBeInstanceOf(DOMException);
    expect((error as DOMException).name).toBe('AbortError');
    expect(mutex.pending).toBe(1);
    held.release();
    (await next).release();
    expect(mutex.locked).toBe(false);
    expect(mutex.pending).toBe(0);
  });

  it('timeout rejects with a TimeoutError DOMException and removes the waiter', async () => {
    vi.useFakeTimers();
    const mutex = new SharedMutex();
    const held = await mutex.lock();
    const timed = mutex.lock({ timeout: 50 });
    const settled = rejectionOf(timed);
    await vi.advanceTimersByTimeAsync(49);
    expect(await stateOf(timed)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    const error = (await settled) as DOMException;
    expect(error.name).toBe('TimeoutError');
    expect(mutex.pending).toBe(0);
    held.release();
    expect(mutex.locked).toBe(false);
  });

  it('timeout 0 takes the lock only if it is free now', async () => {
    const mutex = new SharedMutex();
    const permit = await mutex.lock({ timeout: 0 });
    const error = (await rejectionOf(mutex.lock({ timeout: 0 }))) as DOMException;
    expect(error.name).toBe('TimeoutError');
    expect(mutex.pending).toBe(0);
    permit.release();
  });

  it('run names itself in its wait errors, as Mutex.run does', async () => {
    const mutex = new SharedMutex();
    const held = await mutex.lock();
    const error = (await rejectionOf(mutex.run(() => 1, { timeout: 0 }))) as DOMException;
    expect(error.message).toBe('SharedMutex.run timed out after 0 ms');
    await expect(mutex.run(() => 1, { timeout: -1 })).rejects.toThrow(/^SharedMutex\.run: /);
    held.release();
  });

  it('bad options reject (never throw synchronously)', async () => {
    const mutex = new SharedMutex();
    await expect(mutex.lock({ timeout: -1 })).rejects.toBeInstanceOf(RangeError);
    await expect(mutex.lock({ timeout: 'soon' as never })).rejects.toBeInstanceOf(TypeError);
    await expect(mutex.lock({ signal: {} as never })).rejects.toBeInstanceOf(TypeError);
    await expect(mutex.lock(5 as never)).rejects.toBeInstanceOf(TypeError);
    expect(mutex.locked).toBe(false);
  });

  it('a waiter of another view withdrawn by abort leaves no trace in shared memory', async () => {
    const mutex = new SharedMutex();
    const other = otherView(mutex);
    const held = await mutex.lock();
    const controller = new AbortController();
    const aborted = other.lock({ signal: controller.signal });
    const next = other.lock();
    expect(mutex.pending).toBe(2);
    controller.abort();
    await rejectionOf(aborted);
    expect(mutex.pending).toBe(1);
    held.release();
    const permit = await next;
    expect(mutex.locked).toBe(true);
    permit.release();
    expect(mutex.locked).toBe(false);
  });
});

describe('SharedMutex handle', () => {
  it('is structured-cloneable and from() opens the same lock', async () => {
    const mutex = new SharedMutex();
    const clone = structuredClone(mutex.handle);
    expect(clone.kind).toBe('SharedMutex');
    expect(clone.buffer).toBeInstanceOf(SharedArrayBuffer);
    const other = SharedMutex.from(clone);
    expect(other.handle.buffer.byteLength).toBe(mutex.handle.buffer.byteLength);
    const permit = other.tryLock()!;
    expect(mutex.locked).toBe(true);
    expect(mutex.tryLock()).toBeUndefined();
    // A grant to the other view travels through shared memory and Atomics.waitAsync.
    const waiting = mutex.lock();
    permit.release();
    (await waiting).release();
    expect(other.locked).toBe(false);
  });

  it('from() of anything that is not a SharedMutex handle throws TypeError naming the value', () => {
    expect(() => SharedMutex.from(undefined as never)).toThrow(
      new TypeError('SharedMutex.from: handle must be the handle of a SharedMutex, got undefined'),
    );
    expect(() => SharedMutex.from(42 as never)).toThrow(/got 42/);
    expect(() => SharedMutex.from({} as never)).toThrow(TypeError);
    expect(() => SharedMutex.from(new SharedArrayBuffer(1024) as never)).toThrow(
      /got an instance of SharedArrayBuffer/,
    );
    expect(() => SharedMutex.from({ kind: 'SharedMutex', buffer: new ArrayBuffer(1024) } as never)).toThrow(
      TypeError,
    );
    const garbage: SharedHandle = { kind: 'SharedMutex', buffer: new SharedArrayBuffer(4160) };
    expect(() => SharedMutex.from(garbage)).toThrow(/does not hold a SharedMutex/);
  });

  it('rejects the handle of a SharedSemaphore', async () => {
    const { SharedSemaphore } = await import('../../src/shared/index.js');
    const sem = new SharedSemaphore(1);
    expect(() => SharedMutex.from(sem.handle as never)).toThrow(
      new TypeError(
        'SharedMutex.from: handle must be the handle of a SharedMutex, got the handle of a SharedSemaphore',
      ),
    );
  });

  it('validates the slots option', () => {
    expect(() => new SharedMutex({ slots: 0 })).toThrow(
      new RangeError('SharedMutex: slots must be a positive integer, got 0'),
    );
    expect(() => new SharedMutex({ slots: '4' as never })).toThrow(TypeError);
    expect(() => new SharedMutex(7 as never)).toThrow(TypeError);
    expect(() => new SharedMutex({ slots: 2 ** 30 })).toThrow(RangeError);
    expect(new SharedMutex({ slots: 4 }).handle.buffer.byteLength).toBe((16 + 4 * 8) * 4);
  });
});

describe('SharedMutex.lockSync', () => {
  it('throws a clear TypeError on the main thread, whatever the lock state', () => {
    const mutex = new SharedMutex();
    expect(() => mutex.lockSync()).toThrow(TypeError);
    expect(() => mutex.lockSync()).toThrow(/main thread/);
    expect(mutex.locked).toBe(false);
  });

  it('checks its options first, and refuses a signal it could never observe', () => {
    const mutex = new SharedMutex();
    expect(() => mutex.lockSync({ timeout: -5 })).toThrow(RangeError);
    expect(() => mutex.lockSync({ signal: new AbortController().signal } as never)).toThrow(
      /a signal cannot abort a blocked thread/,
    );
  });
});

describe('SharedMutex recovery', () => {
  it('releaseThread frees the lock held by a thread and withdraws nothing of others', async () => {
    const mutex = new SharedMutex();
    const held = await mutex.lock();
    const waiter = otherView(mutex).lock();
    expect(mutex.releaseThread(currentThreadId() + 1)).toBe(false);
    expect(mutex.locked).toBe(true);
    // Pretend this thread died: its hold and its queued waiter are withdrawn.
    expect(mutex.releaseThread(currentThreadId())).toBe(true);
    expect(await rejectionOf(waiter)).toBeInstanceOf(Error);
    expect(mutex.locked).toBe(false);
    expect(mutex.pending).toBe(0);
    expectInvariants(mutex);
    held.release(); // stale: does nothing
    const fresh = mutex.tryLock()!;
    held.release();
    expect(mutex.locked).toBe(true);
    fresh.release();
  });

  it('forceRelease frees the lock whoever holds it', async () => {
    const mutex = new SharedMutex();
    expect(mutex.forceRelease()).toBe(false);
    await mutex.lock();
    expect(mutex.forceRelease()).toBe(true);
    expect(mutex.locked).toBe(false);
    expect(mutex.owner).toBeUndefined();
  });

  it('releaseThread validates its argument', () => {
    const mutex = new SharedMutex();
    expect(() => mutex.releaseThread(-1)).toThrow(RangeError);
    expect(() => mutex.releaseThread('1' as never)).toThrow(TypeError);
  });
});

describe('SharedMutex beyond its slots', () => {
  it('more waiters than slots still get the lock, in order per view, and aborts among them leave no trace', async () => {
    const mutex = new SharedMutex({ slots: 3 });
    const other = otherView(mutex);
    const held = await mutex.lock();
    const order: number[] = [];
    let inside = 0;
    const controller = new AbortController();
    const waiters = Array.from({ length: 10 }, (_, i) =>
      (i % 2 === 0 ? mutex : other)
        .run(
          async () => {
            expect(++inside).toBe(1);
            order.push(i);
            await flush(2);
            inside--;
          },
          i === 5 ? { signal: controller.signal } : undefined,
        )
        .then(() => i),
    );
    // Two waiters hold the free slots; the rest wait for one in their own view.
    expect(mutex.pending).toBe(2 + 4);
    controller.abort();
    await rejectionOf(waiters[5]!);
    held.release();
    await Promise.all(waiters.filter((_, i) => i !== 5));
    // Arrival order holds within each view; across views everyone got through exactly once.
    expect(order.filter((i) => i % 2 === 0)).toEqual([0, 2, 4, 6, 8]);
    expect(order.filter((i) => i % 2 === 1)).toEqual([1, 3, 7, 9]);
    await until(() => !mutex.locked && mutex.pending === 0);
    const slotsWaiting = new Int32Array(mutex.handle.buffer)[12];
    expect(slotsWaiting).toBe(0);
    expectInvariants(mutex);
  });
});

describe('SharedMutex without Atomics.waitAsync', () => {
  it('falls back to polling and still hands the lock over', async () => {
    const original = Object.getOwnPropertyDescriptor(Atomics, 'waitAsync');
    Object.defineProperty(Atomics, 'waitAsync', { value: undefined, configurable: true, writable: true });
    try {
      const mutex = new SharedMutex({ slots: 2 });
      const other = otherView(mutex);
      const held = await mutex.lock();
      const waiters = [other.lock(), other.lock(), other.lock()];
      await flush();
      held.release();
      for (const waiter of waiters) (await waiter).release();
      expect(mutex.locked).toBe(false);
      expect(mutex.pending).toBe(0);
    } finally {
      if (original) Object.defineProperty(Atomics, 'waitAsync', original);
    }
  });
});
