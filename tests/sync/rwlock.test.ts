import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RWLock, type Permit } from '../../src/sync/index.js';
import { expectPending, flush, rejectionOf, stateOf } from '../helpers.js';

describe('RWLock', () => {
  it('lets readers in together and keeps a writer alone', async () => {
    const lock = new RWLock();
    const r1 = await lock.read();
    const r2 = await lock.read();
    expect(lock.readers).toBe(2);
    const w = lock.write();
    await expectPending(w);
    expect(lock.tryWrite()).toBeUndefined();
    r1.release();
    await expectPending(w);
    r2.release();
    const write = await w;
    expect(lock.writers).toBe(1);
    expect(lock.readers).toBe(0);
    expect(lock.tryRead()).toBeUndefined();
    write.release();
    expect(lock.writers).toBe(0);
  });

  it('a queued writer blocks readers that arrive after it; readers at the head then enter together', async () => {
    const lock = new RWLock();
    const reader = lock.tryRead()!;
    const log: string[] = [];
    const w = lock.write().then((p) => (log.push('w'), p));
    const later = [lock.read(), lock.read()].map((p) => p.then((x) => (log.push('r'), x)));
    const w2 = lock.write().then((p) => (log.push('w2'), p));
    expect(lock.tryRead()).toBeUndefined();
    expect(lock.pending).toBe(4);
    await flush();
    expect(log).toEqual([]);
    reader.release();
    const write = await w;
    await flush();
    expect(log).toEqual(['w']);
    write.release();
    await flush();
    expect(log).toEqual(['w', 'r', 'r']);
    expect(lock.readers).toBe(2);
    for (const p of later) (await p).release();
    (await w2).release();
    expect(log).toEqual(['w', 'r', 'r', 'w2']);
    expect(lock.pending).toBe(0);
  });

  it('an aborted queued writer lets the readers behind it in while readers hold the lock', async () => {
    const lock = new RWLock();
    const reader = lock.tryRead()!;
    const controller = new AbortController();
    const writer = lock.write({ signal: controller.signal });
    const late = lock.read();
    await expectPending(late);
    controller.abort();
    expect(((await rejectionOf(writer)) as DOMException).name).toBe('AbortError');
    (await late).release();
    reader.release();
    expect(lock.pending).toBe(0);
    expect(lock.readers).toBe(0);
  });

  it('runRead and runWrite release on throw and reject with the error', async () => {
    const lock = new RWLock();
    const error = new Error('x');
    expect(
      await rejectionOf(
        lock.runRead(() => {
          throw error;
        }),
      ),
    ).toBe(error);
    expect(await rejectionOf(lock.runWrite(() => Promise.reject(error)))).toBe(error);
    expect(await lock.runWrite(() => 'w')).toBe('w');
    expect(await lock.runRead(async () => 'r')).toBe('r');
    expect(lock.readers + lock.writers + lock.pending).toBe(0);
    expect(await rejectionOf(lock.runRead(1 as unknown as () => void))).toEqual(
      new TypeError('RWLock.runRead: fn must be a function, got 1'),
    );
    expect(await rejectionOf(lock.runWrite(undefined as unknown as () => void))).toEqual(
      new TypeError('RWLock.runWrite: fn must be a function, got undefined'),
    );
  });

  it('rejects at once for an aborted signal even when free, and for bad options', async () => {
    const lock = new RWLock();
    const reason = new Error('gone');
    expect(await rejectionOf(lock.read({ signal: AbortSignal.abort(reason) }))).toBe(reason);
    expect(await rejectionOf(lock.write({ signal: AbortSignal.abort(reason) }))).toBe(reason);
    expect(await rejectionOf(lock.write({ timeout: -1 }))).toEqual(
      new RangeError('RWLock.write: timeout must be a non-negative number of milliseconds, got -1'),
    );
    expect(lock.readers + lock.writers).toBe(0);
  });

  it('releases idempotently and with using', async () => {
    const lock = new RWLock();
    const read = await lock.read();
    read.release();
    read.release();
    expect(lock.readers).toBe(0);
    {
      using _write = await lock.write();
      expect(lock.writers).toBe(1);
    }
    expect(lock.writers).toBe(0);
  });
});

describe('RWLock: timeouts (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('times out a waiting reader with a TimeoutError naming RWLock.read', async () => {
    const lock = new RWLock();
    const write = lock.tryWrite()!;
    const outcome = rejectionOf(lock.read({ timeout: 40 }));
    await vi.advanceTimersByTimeAsync(40);
    const error = (await outcome) as DOMException;
    expect(error.message).toBe('RWLock.read timed out after 40 ms');
    expect(lock.pending).toBe(0);
    write.release();
  });

  it('timeout 0 succeeds only when it can enter now', async () => {
    const lock = new RWLock();
    const read = await lock.read({ timeout: 0 });
    expect(((await rejectionOf(lock.write({ timeout: 0 }))) as DOMException).name).toBe('TimeoutError');
    expect(await stateOf(lock.read({ timeout: 0 }))).toBe('fulfilled');
    read.release();
  });
});

describe('RWLock: property', () => {
  type Op =
    | { kind: 'read'; abortable: boolean }
    | { kind: 'write'; abortable: boolean }
    | { kind: 'release'; pick: number }
    | { kind: 'abort'; pick: number };

  it('never lets a writer in with anyone else, and serves everyone in FIFO batches', async () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.record({ kind: fc.constant('read' as const), abortable: fc.boolean() }),
      fc.record({ kind: fc.constant('write' as const), abortable: fc.boolean() }),
      fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), async (ops) => {
        const lock = new RWLock();
        const held: { permit: Permit; write: boolean }[] = [];
        const waiting = new Map<number, { write: boolean; controller: AbortController | undefined }>();
        const grantedOrder: number[] = [];
        let id = 0;
        const check = (): void => {
          const writers = held.filter((h) => h.write).length;
          expect(writers <= 1).toBe(true);
          if (writers === 1) expect(held.length).toBe(1);
          expect(lock.readers).toBe(held.length - writers);
          expect(lock.writers).toBe(writers);
          expect(lock.pending).toBe(waiting.size);
        };
        for (const o of ops) {
          if (o.kind === 'read' || o.kind === 'write') {
            const me = id++;
            const controller = o.abortable ? new AbortController() : undefined;
            waiting.set(me, { write: o.kind === 'write', controller });
            const opts = controller ? { signal: controller.signal } : undefined;
            (o.kind === 'read' ? lock.read(opts) : lock.write(opts)).then(
              (permit) => {
                waiting.delete(me);
                grantedOrder.push(me);
                held.push({ permit, write: o.kind === 'write' });
              },
              () => waiting.delete(me),
            );
          } else if (o.kind === 'release') {
            if (held.length === 0) continue;
            const [h] = held.splice(o.pick % held.length, 1);
            h!.permit.release();
          } else {
            const abortable = [...waiting.values()].filter((w) => w.controller);
            if (abortable.length === 0) continue;
            abortable[o.pick % abortable.length]!.controller!.abort();
          }
          await flush(4);
          check();
        }
        // Nobody left behind once everything is released.
        while (held.length > 0) {
          held.pop()!.permit.release();
          await flush(4);
          check();
        }
        expect(waiting.size).toBe(0);
        // FIFO: grants happened in arrival order.
        expect(grantedOrder).toEqual([...grantedOrder].sort((a, b) => a - b));
      }),
      { numRuns: 150 },
    );
  });
});
