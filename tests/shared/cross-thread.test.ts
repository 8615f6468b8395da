/**
 * SharedMutex and SharedSemaphore across real worker threads. The fixtures (tests/fixtures/shared/*.mjs) import
 * 'weftjs/shared', which resolves to the built dist/ through the package's self-reference: run `npm run build` first.
 * Orderings and invariants are asserted, not timings; the few waits on a real clock are generous.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { SharedMutex, SharedSemaphore } from '../../src/shared/index.js';
import { checkedWhile, expectInvariants } from './invariants.js';

const fixture = (name: string): URL => new URL(`../fixtures/shared/${name}.mjs`, import.meta.url);

interface Started {
  worker: Worker;
  threadId: number;
  exited: Promise<number>;
  messages: unknown[];
  next(): Promise<unknown>;
}

/** Starts a fixture; collects its messages and its exit code (errors are expected in some scenarios). */
function start(name: string, workerData: unknown): Started {
  const worker = new Worker(fixture(name), { workerData });
  const messages: unknown[] = [];
  const listeners: ((message: unknown) => void)[] = [];
  worker.on('message', (message: unknown) => {
    const listener = listeners.shift();
    if (listener) listener(message);
    else messages.push(message);
  });
  worker.on('error', () => {});
  const exited = new Promise<number>((resolve) => worker.once('exit', resolve));
  return {
    worker,
    threadId: worker.threadId,
    exited,
    messages,
    next: () =>
      messages.length > 0
        ? Promise.resolve(messages.shift())
        : new Promise((resolve, reject) => {
            listeners.push(resolve);
            void exited.then((code) => reject(new Error(`worker exited (${code}) before replying`)));
          }),
  };
}

/** Resolves once `condition` holds (checked every few ms), or fails after `ms`. */
async function until(condition: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('SharedMutex across threads', () => {
  it('N workers doing non-atomic read-modify-write under the lock give an exact total (async and sync)', async () => {
    const mutex = new SharedMutex();
    for (const mode of ['async', 'sync'] as const) {
      const counter = new Int32Array(new SharedArrayBuffer(4));
      const workers = Array.from({ length: 4 }, () =>
        start('counter', { lock: mutex.handle, counter, n: 2_000, mode }),
      );
      // The invariants are checked under the guard while the workers run, and once they are done.
      const { result: codes } = await checkedWhile(mutex, Promise.all(workers.map((w) => w.exited)));
      expect(codes).toEqual([0, 0, 0, 0]);
      expect(counter[0]).toBe(8_000);
      expect(mutex.locked).toBe(false);
      expect(mutex.pending).toBe(0);
    }
  });

  it('serves waiters from different threads in arrival order', async () => {
    const mutex = new SharedMutex();
    const stamp = new Int32Array(new SharedArrayBuffer(4 * 8));
    const held = await mutex.lock();
    const workers: Started[] = [];
    for (let index = 0; index < 4; index++) {
      workers.push(start('waiter', { handle: mutex.handle, how: index % 2 ? 'sync' : 'lock', stamp, index }));
      await until(() => mutex.pending === index + 1);
    }
    held.release();
    await Promise.all(workers.map((w) => w.exited));
    expect([...stamp.subarray(1, 5)]).toEqual([0, 1, 2, 3]);
  });

  it('a timed-out or aborted waiter on another thread leaves no trace', async () => {
    const mutex = new SharedMutex();
    const held = await mutex.lock();
    const timed = start('waiter', { handle: mutex.handle, how: 'timeout', ms: 50 });
    const aborted = start('waiter', { handle: mutex.handle, how: 'abort', ms: 50 });
    const blocked = start('waiter', { handle: mutex.handle, how: 'sync-timeout', ms: 50 });
    const results = (await Promise.all([timed.next(), aborted.next(), blocked.next()])) as {
      ok: boolean;
      name: string;
    }[];
    expect(results.map((r) => [r.ok, r.name])).toEqual([
      [false, 'TimeoutError'],
      [false, 'AbortError'],
      [false, 'TimeoutError'],
    ]);
    expect(mutex.pending).toBe(0);
    // Nothing left behind blocks the next waiter.
    const next = mutex.lock();
    held.release();
    (await next).release();
    expect(mutex.locked).toBe(false);
  });

  it('lockSync works in a worker (and throws on this, the main thread)', async () => {
    const mutex = new SharedMutex();
    expect(() => mutex.lockSync()).toThrow(/main thread/);
    const stamp = new Int32Array(new SharedArrayBuffer(8));
    const worker = start('waiter', { handle: mutex.handle, how: 'sync', stamp });
    expect(await worker.next()).toMatchObject({ ok: true });
    expect(stamp[0]).toBe(1);
  });

  it('the handle travels through postMessage', async () => {
    const mutex = new SharedMutex();
    const worker = start('holder', { kind: 'mutex', then: 'block' });
    worker.worker.postMessage(mutex.handle);
    expect(await worker.next()).toMatchObject({ state: 'holding' });
    expect(mutex.locked).toBe(true);
    expect(mutex.owner).toBe(worker.threadId);
    expect(mutex.tryLock()).toBeUndefined();
    await worker.worker.terminate();
    mutex.releaseThread(worker.threadId);
    expect(mutex.locked).toBe(false);
  });

  it('a pending lock() keeps the waiting thread alive until it gets the lock', async () => {
    const mutex = new SharedMutex();
    const held = await mutex.lock();
    const worker = start('keepalive', { handle: mutex.handle });
    let exited = false;
    void worker.exited.then(() => (exited = true));
    await until(() => mutex.pending === 1);
    // Without a keep-alive the worker would have exited by now with nothing left to run.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(exited).toBe(false);
    held.release();
    expect(await worker.next()).toBe('locked');
    expect(await worker.exited).toBe(0);
    expect(mutex.locked).toBe(false);
  });
});

describe('blocking forms in a worker', () => {
  it('refuse to deadlock the thread with its own queued waiters, and block normally otherwise', async () => {
    const mutex = new SharedMutex();
    const sem = new SharedSemaphore(2);
    const lock = await mutex.lock();
    const permits = await sem.acquire(2);
    const worker = start('sync-guard', { mutex: mutex.handle, sem: sem.handle });
    const first = (await worker.next()) as Record<string, unknown>;
    expect(first.lockSyncWhileQueued).toMatch(/^Error: SharedMutex.lockSync: .*would deadlock/);
    expect(first.acquireSyncWhileQueued).toMatch(/^Error: SharedSemaphore.acquireSync: .*could deadlock/);
    expect(first.pendingBefore).toEqual([1, 1]);
    lock.release();
    permits.release();
    const second = (await worker.next()) as Record<string, unknown>;
    expect(second).toEqual({
      heldHere: expect.stringMatching(/would deadlock/),
      blocking: 'ok',
      pendingAfter: 0,
      availableAfter: 2,
    });
    expect(await worker.exited).toBe(0);
    expect(mutex.locked).toBe(false);
  });
});

describe('dead owners', () => {
  for (const then of ['end', 'exit', 'throw'] as const) {
    it(`a worker that exits on its own (${then}) while holding the lock releases it`, async () => {
      const mutex = new SharedMutex();
      const worker = start('holder', { kind: 'mutex', handle: mutex.handle, then });
      expect(await worker.next()).toMatchObject({ state: 'holding' });
      const next = mutex.lock();
      await worker.exited;
      (await next).release();
      expect(mutex.locked).toBe(false);
    });
  }

  it('a terminated holder is recovered with releaseThread(threadId); the queue behind it goes on', async () => {
    const mutex = new SharedMutex();
    const worker = start('holder', { kind: 'mutex', handle: mutex.handle, then: 'block' });
    const { threadId } = (await worker.next()) as { threadId: number };
    expect(threadId).toBe(worker.threadId);
    expect(mutex.owner).toBe(threadId);
    const next = mutex.lock();
    await worker.worker.terminate();
    expect(mutex.locked).toBe(true); // terminate() runs no exit hook: the lock is still held...
    expect(mutex.releaseThread(threadId)).toBe(true); // ...until recovery
    expectInvariants(mutex);
    (await next).release();
    expect(mutex.locked).toBe(false);
  });

  it('a terminated thread with a queued waiter is withdrawn by releaseThread and skipped', async () => {
    const mutex = new SharedMutex();
    const held = await mutex.lock();
    const worker = start('holder', { kind: 'mutex', handle: mutex.handle, then: 'block', queue: true });
    const { threadId } = (await worker.next()) as { threadId: number };
    const behind = mutex.lock();
    expect(mutex.pending).toBe(2);
    await worker.worker.terminate();
    mutex.releaseThread(threadId);
    expectInvariants(mutex);
    expect(mutex.pending).toBe(1);
    held.release();
    (await behind).release();
    expect(mutex.locked).toBe(false);
  });

  it('forceRelease frees a lock whose holder was terminated', async () => {
    const mutex = new SharedMutex();
    const worker = start('holder', { kind: 'mutex', handle: mutex.handle, then: 'block' });
    await worker.next();
    await worker.worker.terminate();
    expect(mutex.forceRelease()).toBe(true);
    const permit = mutex.tryLock();
    expect(permit).toBeDefined();
    permit!.release();
  });

  it('a semaphore gets back the permits of a terminated worker', async () => {
    const sem = new SharedSemaphore(3);
    const worker = start('holder', { kind: 'semaphore', handle: sem.handle, weight: 2, then: 'block' });
    const { threadId } = (await worker.next()) as { threadId: number };
    expect(sem.available).toBe(1);
    await worker.worker.terminate();
    expect(sem.releaseThread(threadId)).toBe(2);
    expect(sem.available).toBe(3);
    expectInvariants(sem);
  });
});

describe('SharedSemaphore across threads', () => {
  it('bounds concurrency across workers: the holders never exceed the permits (async and sync)', async () => {
    for (const mode of ['async', 'sync'] as const) {
      const sem = new SharedSemaphore(3);
      const stats = new Int32Array(new SharedArrayBuffer(12));
      const workers = [1, 1, 2, 1].map((weight) =>
        start('semaphore', { sem: sem.handle, stats, n: 150, weight, mode }),
      );
      const { result: codes } = await checkedWhile(sem, Promise.all(workers.map((w) => w.exited)));
      expect(codes).toEqual([0, 0, 0, 0]);
      expect(stats[1]).toBeLessThanOrEqual(3);
      expect(stats[1]).toBeGreaterThanOrEqual(2);
      expect(stats[2]).toBe(600);
      expect(stats[0]).toBe(0);
      expect(sem.available).toBe(3);
      expect(sem.pending).toBe(0);
    }
  });

  it('survives a mixed workload: async and blocking, weights, timeouts and aborts, few or many slots', async () => {
    for (const [capacity, slots] of [
      [1, 3],
      [3, 128],
    ] as const) {
      const sem = new SharedSemaphore(capacity, { slots });
      const stats = new Int32Array(new SharedArrayBuffer(12));
      const workers = [1, 2, 3].map((seed) =>
        start('stress', { sem: sem.handle, stats, n: 800, seed, capacity }),
      );
      const { result } = await checkedWhile(sem, Promise.all(workers.map((w) => w.next())));
      const outcomes = result as { granted: number }[];
      expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0, 0]);
      expect(stats[1]).toBeLessThanOrEqual(capacity);
      expect(stats[0]).toBe(0);
      expect(stats[2]).toBe(outcomes.reduce((sum, o) => sum + o.granted, 0));
      expect(sem.available).toBe(capacity);
      expect(sem.pending).toBe(0);
    }
  });

  it('a worker that exits holding permits gives them back', async () => {
    const sem = new SharedSemaphore(2);
    const worker = start('holder', { kind: 'semaphore', handle: sem.handle, weight: 2, then: 'exit' });
    await worker.next();
    expect(await worker.exited).toBe(7);
    expect(sem.available).toBe(2);
    expectInvariants(sem);
  });
});
