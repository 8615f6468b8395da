import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClosedError, Mutex, Semaphore, type Permit } from '../../src/sync/index.js';
import { expectPending, flush, rejectionOf, stateOf } from '../helpers.js';

describe('Mutex.waitForUnlock', () => {
  it('resolves at once when the mutex is free, and takes nothing', async () => {
    const mutex = new Mutex();
    await mutex.waitForUnlock();
    expect(mutex.locked).toBe(false);
    mutex.tryLock()!.release();
  });

  it('waits while the lock is held and resolves once it is free, without taking it', async () => {
    const mutex = new Mutex();
    const held = mutex.tryLock()!;
    const unlocked = mutex.waitForUnlock();
    await expectPending(unlocked);
    expect(mutex.pending).toBe(0); // not an acquirer
    held.release();
    await unlocked;
    expect(mutex.locked).toBe(false);
  });

  it('never holds up a lock() made after it, and goes on waiting while the lock passes from holder to holder', async () => {
    const mutex = new Mutex();
    const held = mutex.tryLock()!;
    const unlocked = mutex.waitForUnlock();
    const later = mutex.lock();
    held.release();
    const second = await later; // handed straight on: the mutex was never free
    expect(await stateOf(unlocked)).toBe('pending');
    second.release();
    expect(await stateOf(unlocked)).toBe('fulfilled');
  });

  it('wakes every waiting caller together, in arrival order', async () => {
    const mutex = new Mutex();
    const held = mutex.tryLock()!;
    const order: number[] = [];
    const waits = [1, 2, 3].map((n) => mutex.waitForUnlock().then(() => order.push(n)));
    held.release();
    await Promise.all(waits);
    expect(order).toEqual([1, 2, 3]);
  });

  it('an already-aborted signal rejects with its reason even when the mutex is free', async () => {
    const mutex = new Mutex();
    const reason = new Error('stop');
    expect(await rejectionOf(mutex.waitForUnlock({ signal: AbortSignal.abort(reason) }))).toBe(reason);
  });

  it('rejects bad options with messages naming the method (never throws)', async () => {
    const mutex = new Mutex();
    expect(await rejectionOf(mutex.waitForUnlock(5 as never))).toEqual(
      new TypeError('Mutex.waitForUnlock: options must be an object, got 5'),
    );
    expect(await rejectionOf(mutex.waitForUnlock({ timeout: -1 }))).toBeInstanceOf(RangeError);
    expect(await rejectionOf(mutex.waitForUnlock({ signal: {} as never }))).toBeInstanceOf(TypeError);
  });

  it('rejects when the mutex gets closed, and at once after close (with the reason itself when given)', async () => {
    const mutex = new Mutex();
    mutex.tryLock();
    const waiting = mutex.waitForUnlock();
    const reason = { code: 'SHUTDOWN' };
    mutex.close(reason);
    expect(await rejectionOf(waiting)).toBe(reason);
    expect(await rejectionOf(mutex.waitForUnlock())).toBe(reason);
    const other = new Mutex();
    other.close();
    expect(await rejectionOf(other.waitForUnlock())).toBeInstanceOf(ClosedError);
  });
});

describe('Semaphore.waitForUnlock', () => {
  it('resolves once `weight` permits are free, taking none', async () => {
    const sem = new Semaphore(3);
    const a = sem.tryAcquire(2)!;
    await sem.waitForUnlock(1); // one is free now
    const two = sem.waitForUnlock(2);
    await expectPending(two);
    a.release();
    await two;
    expect(sem.available).toBe(3);
  });

  it('waits while an acquirer is queued, as acquire(weight) would, but never joins the queue', async () => {
    const sem = new Semaphore(3);
    const held = sem.tryAcquire(2)!;
    const heavy = sem.acquire(3);
    const light = sem.waitForUnlock(1); // one permit is free, but the heavy waiter comes first
    await expectPending(light);
    expect(sem.pending).toBe(1);
    held.release();
    const heavyPermit = await heavy;
    expect(await stateOf(light)).toBe('pending');
    heavyPermit.release();
    expect(await stateOf(light)).toBe('fulfilled');
  });

  it('a heavy waiter for unlock does not hold up lighter ones behind it', async () => {
    const sem = new Semaphore(4);
    const held = [sem.tryAcquire(2)!, sem.tryAcquire(2)!];
    const all = sem.waitForUnlock(4);
    const two = sem.waitForUnlock(2);
    held[0]!.release();
    expect(await stateOf(two)).toBe('fulfilled');
    expect(await stateOf(all)).toBe('pending');
    held[1]!.release();
    expect(await stateOf(all)).toBe('fulfilled');
  });

  it('resolves when a queued acquirer that held the others up is cancelled', async () => {
    const sem = new Semaphore(2);
    const held = sem.tryAcquire()!;
    const controller = new AbortController();
    const heavy = sem.acquire(2, { signal: controller.signal });
    const unlocked = sem.waitForUnlock(1);
    await expectPending(unlocked);
    controller.abort();
    await rejectionOf(heavy);
    expect(await stateOf(unlocked)).toBe('fulfilled');
    held.release();
  });

  it('validates its weight like acquire: a positive integer no larger than the capacity', async () => {
    const sem = new Semaphore(2);
    expect(await rejectionOf(sem.waitForUnlock(0))).toEqual(
      new RangeError('Semaphore.waitForUnlock: weight must be a positive integer, got 0'),
    );
    expect(await rejectionOf(sem.waitForUnlock(1.5))).toBeInstanceOf(RangeError);
    expect(await rejectionOf(sem.waitForUnlock('2' as never))).toBeInstanceOf(TypeError);
    expect(await rejectionOf(sem.waitForUnlock(3))).toEqual(
      new RangeError('Semaphore.waitForUnlock: weight must be at most the capacity (2), got 3'),
    );
  });

  it('rejects pending and later calls with a ClosedError after close', async () => {
    const sem = new Semaphore(1);
    sem.tryAcquire();
    const waiting = sem.waitForUnlock();
    sem.close();
    const error = await rejectionOf(waiting);
    expect(error).toBeInstanceOf(ClosedError);
    expect((error as Error).message).toBe('Semaphore closed');
    expect(await rejectionOf(sem.waitForUnlock())).toBeInstanceOf(ClosedError);
  });

  it('matches its definition for random mixes of acquires, releases, aborts and waits for unlock', async () => {
    type Op =
      | { kind: 'acquire'; weight: number; abortable: boolean }
      | { kind: 'release'; pick: number }
      | { kind: 'abort'; pick: number }
      | { kind: 'unlock'; weight: number };
    const op = (capacity: number): fc.Arbitrary<Op> =>
      fc.oneof(
        fc.record({
          kind: fc.constant('acquire' as const),
          weight: fc.integer({ min: 1, max: capacity }),
          abortable: fc.boolean(),
        }),
        fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
        fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }),
        fc.record({ kind: fc.constant('unlock' as const), weight: fc.integer({ min: 1, max: capacity }) }),
      );
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 4 })
          .chain((capacity) => fc.tuple(fc.constant(capacity), fc.array(op(capacity), { maxLength: 30 }))),
        async ([capacity, ops]) => {
          const sem = new Semaphore(capacity);
          const held: Permit[] = [];
          const controllers: AbortController[] = [];
          const unlocks: { weight: number; done: boolean }[] = [];
          for (const o of ops) {
            if (o.kind === 'acquire') {
              const controller = o.abortable ? new AbortController() : undefined;
              if (controller) controllers.push(controller);
              sem.acquire(o.weight, controller && { signal: controller.signal }).then(
                (permit) => held.push(permit),
                () => {},
              );
            } else if (o.kind === 'release') {
              held.splice(o.pick % Math.max(1, held.length), 1)[0]?.release();
            } else if (o.kind === 'abort') {
              controllers[o.pick % Math.max(1, controllers.length)]?.abort();
            } else {
              const wait = { weight: o.weight, done: false };
              unlocks.push(wait);
              const pendingBefore = sem.pending;
              void sem.waitForUnlock(o.weight).then(() => (wait.done = true));
              expect(sem.pending).toBe(pendingBefore); // never an acquirer
            }
            await flush(3);
            // Once things settle: a wait for unlock is done exactly when it was free at some point since it began;
            // the ones still waiting are those whose weight is not free now (or someone is queued).
            for (const wait of unlocks) {
              if (!wait.done) {
                expect(sem.pending > 0 || sem.available < wait.weight).toBe(true);
              }
            }
          }
          // Releasing everything (the acquirers still queued get their turn and release too) frees every weight.
          while (held.length !== 0) {
            for (const permit of held.splice(0)) permit.release();
            await flush(3);
          }
          expect(sem.available).toBe(capacity);
          expect(unlocks.every((wait) => wait.done)).toBe(true);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('waitForUnlock: signal and timeout (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('times out with a TimeoutError naming the method and leaves no timer or listener behind', async () => {
    const mutex = new Mutex();
    mutex.tryLock();
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const outcome = rejectionOf(mutex.waitForUnlock({ signal: controller.signal, timeout: 30 }));
    await vi.advanceTimersByTimeAsync(29);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const error = (await outcome) as DOMException;
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toBe('Mutex.waitForUnlock timed out after 30 ms');
    expect(vi.getTimerCount()).toBe(0);
    expect(remove).toHaveBeenCalledTimes(1);
  });

  it('timeout 0 resolves if free now, and otherwise rejects at once without a timer', async () => {
    const sem = new Semaphore(2);
    await sem.waitForUnlock(2, { timeout: 0 });
    sem.tryAcquire();
    const wait = sem.waitForUnlock(2, { timeout: 0 });
    expect(vi.getTimerCount()).toBe(0);
    expect(((await rejectionOf(wait)) as DOMException).message).toBe(
      'Semaphore.waitForUnlock timed out after 0 ms',
    );
  });

  it('an aborted wait rejects with the reason, and the unlock that follows wakes only the others', async () => {
    const sem = new Semaphore(1);
    const held = sem.tryAcquire()!;
    const controller = new AbortController();
    const aborted = sem.waitForUnlock(1, { signal: controller.signal, timeout: 1_000 });
    const other = sem.waitForUnlock(1);
    controller.abort('no longer needed');
    expect(await rejectionOf(aborted)).toBe('no longer needed');
    expect(vi.getTimerCount()).toBe(0);
    held.release();
    await other;
  });

  it('a wake-up clears the timer and the abort listener', async () => {
    const mutex = new Mutex();
    const held = mutex.tryLock()!;
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    const wait = mutex.waitForUnlock({ signal: controller.signal, timeout: 1_000 });
    held.release();
    await wait;
    expect(vi.getTimerCount()).toBe(0);
    expect(remove).toHaveBeenCalledTimes(1);
  });
});
