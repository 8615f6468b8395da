/**
 * One test per behaviour that p-limit 7 documents (readme and index.d.ts), run against weft's `limit`.
 * Deterministic: tasks wait on gates the test opens, never on wall-clock delays.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { limit, limitFunction } from '../../src/sync/index.js';
import { expectPending, flush, rejectionOf, stateOf } from '../helpers.js';

/** A promise the test resolves by hand. */
function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void; fail: (error: unknown) => void } {
  let open!: (value: T) => void;
  let fail!: (error: unknown) => void;
  const promise = new Promise<T>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  return { promise, open, fail };
}

describe('p-limit 7 documented behaviour, against weft limit', () => {
  it('limit(fn) returns the promise of fn: its value, or its rejection', async () => {
    const lim = limit(2);
    expect(await lim(async () => 'value')).toBe('value');
    const error = new Error('fn failed');
    expect(await rejectionOf(lim(async () => Promise.reject(error)))).toBe(error);
  });

  it('passes extra arguments through to fn', async () => {
    const lim = limit(1);
    const symbol = Symbol('arg');
    expect(await lim((a: symbol, b: number, c: string) => [a, b, c], symbol, 2, 'three')).toEqual([
      symbol,
      2,
      'three',
    ]);
  });

  it('accepts functions that do not return a promise, and sync throws become rejections', async () => {
    const lim = limit(1);
    expect(await lim(() => null)).toBeNull();
    const error = new Error('sync');
    let ranAfter = false;
    const failing = lim(() => {
      throw error;
    });
    const after = lim(() => {
      ranAfter = true;
    });
    expect(await rejectionOf(failing)).toBe(error);
    await after;
    expect(ranAfter).toBe(true);
  });

  it('runs at most `concurrency` functions at once, starting them in call order', async () => {
    const lim = limit(2);
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    const results = gates.map((g, i) =>
      lim(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    await flush();
    expect(started).toEqual([0, 1]);
    gates[1]!.open();
    await flush();
    expect(started).toEqual([0, 1, 2]);
    gates[0]!.open();
    gates[2]!.open();
    gates[3]!.open();
    expect(await Promise.all(results)).toEqual([0, 1, 2, 3]);
  });

  it('with concurrency 1, one promise runs at a time', async () => {
    const lim = limit(1);
    let running = 0;
    let most = 0;
    await Promise.all(
      Array.from({ length: 10 }, () =>
        lim(async () => {
          running++;
          most = Math.max(most, running);
          await flush(3);
          running--;
        }),
      ),
    );
    expect(most).toBe(1);
  });

  it('does not call fn synchronously, even when a slot is free', async () => {
    const lim = limit(3);
    let value = 1;
    const first = lim(() => value);
    value = 2;
    expect(await first).toBe(2);
  });

  it('activeCount counts running calls and pendingCount the calls whose fn was not called yet', async () => {
    const lim = limit(2);
    expect([lim.activeCount, lim.pendingCount]).toEqual([0, 0]);
    const gates = [gate(), gate(), gate()];
    const results = gates.map((g) => lim(() => g.promise));
    expect([lim.activeCount, lim.pendingCount]).toEqual([2, 1]);
    gates[0]!.open();
    await results[0];
    expect([lim.activeCount, lim.pendingCount]).toEqual([2, 0]);
    gates[1]!.open();
    gates[2]!.open();
    await Promise.all(results);
    expect([lim.activeCount, lim.pendingCount]).toEqual([0, 0]);
  });

  it('clearQueue discards pending calls, leaves running ones, and their promises stay pending', async () => {
    const lim = limit(1);
    const running = gate<string>();
    const active = lim(() => running.promise);
    let called = false;
    const discarded = lim(() => {
      called = true;
    });
    expect(lim.pendingCount).toBe(1);
    lim.clearQueue();
    expect([lim.activeCount, lim.pendingCount]).toEqual([1, 0]);
    running.open('still here');
    expect(await active).toBe('still here');
    await expectPending(discarded);
    expect(called).toBe(false);
  });

  it('with rejectOnClear, clearQueue rejects the pending calls with an AbortError', async () => {
    const lim = limit({ concurrency: 1, rejectOnClear: true });
    const running = gate();
    const active = lim(() => running.promise);
    const pending = [lim(() => 1), lim(() => 2)];
    lim.clearQueue();
    for (const p of pending) {
      const error = (await rejectionOf(p)) as DOMException;
      expect(error).toBeInstanceOf(DOMException);
      expect(error.name).toBe('AbortError');
    }
    running.open();
    await active;
    expect([lim.activeCount, lim.pendingCount]).toEqual([0, 0]);
  });

  it('accepts a number or an options object; concurrency is readable', () => {
    expect(limit(3).concurrency).toBe(3);
    expect(limit({ concurrency: 4 }).concurrency).toBe(4);
    expect(limit(Infinity).concurrency).toBe(Infinity);
  });

  it('throws on a concurrency below 1, not an integer, or not a number, and on a non-boolean rejectOnClear', () => {
    for (const bad of [0, -1, 1.2, Number.NaN, undefined, true, '2', null, {}, { concurrency: 0 }]) {
      expect(() => limit(bad as number)).toThrow();
    }
    expect(() => limit({ concurrency: 1, rejectOnClear: 'yes' as unknown as boolean })).toThrow(TypeError);
  });

  it('setting concurrency higher starts queued calls (in a microtask); lower lets running calls finish', async () => {
    const lim = limit(1);
    const gates = [gate(), gate(), gate(), gate()];
    const results = gates.map((g) => lim(() => g.promise));
    lim.concurrency = 3;
    expect(lim.activeCount).toBe(1);
    await flush();
    expect([lim.activeCount, lim.pendingCount]).toEqual([3, 1]);
    lim.concurrency = 1;
    gates[0]!.open();
    await results[0];
    expect([lim.activeCount, lim.pendingCount]).toEqual([2, 1]);
    gates[1]!.open();
    gates[2]!.open();
    await Promise.all([results[1], results[2]]);
    await flush();
    expect([lim.activeCount, lim.pendingCount]).toEqual([1, 0]);
    gates[3]!.open();
    await results[3];
  });

  it('an invalid concurrency assignment throws and keeps the old value', () => {
    const lim = limit(2);
    expect(() => (lim.concurrency = 0)).toThrow();
    expect(lim.concurrency).toBe(2);
  });

  it('map runs the mapper with each item and its index, with limited concurrency, results in input order', async () => {
    const lim = limit(2);
    let running = 0;
    let most = 0;
    const results = await lim.map(new Set(['a', 'b', 'c', 'd']), async (item, index) => {
      running++;
      most = Math.max(most, running);
      await flush(4 - index);
      running--;
      return `${index}:${item}`;
    });
    expect(results).toEqual(['0:a', '1:b', '2:c', '3:d']);
    expect(most).toBe(2);
  });

  it('map works when detached from its limiter and shares its slots', async () => {
    const lim = limit(1);
    const { map } = lim;
    const blocker = gate();
    const first = lim(() => blocker.promise);
    const mapped = map([1, 2], (n) => n * 10);
    expect(lim.pendingCount).toBe(2);
    blocker.open();
    await first;
    expect(await mapped).toEqual([10, 20]);
  });

  it('map rejects with the error of a throwing iterable; calls already scheduled still run', async () => {
    const lim = limit(1);
    const ran: number[] = [];
    const error = new Error('iteration failed');
    function* items(): Generator<number> {
      yield 1;
      yield 2;
      throw error;
    }
    expect(await rejectionOf(lim.map(items(), (n) => void ran.push(n)))).toBe(error);
    await flush();
    expect(ran).toEqual([1, 2]);
  });

  it('calling the same limiter from inside a limited function and waiting for it deadlocks', async () => {
    const lim = limit(1);
    let innerRan = false;
    const outer = lim(async () => {
      await lim(() => {
        innerRan = true;
      });
    });
    await flush();
    expect(await stateOf(outer)).toBe('pending');
    expect(innerRan).toBe(false);
    expect([lim.activeCount, lim.pendingCount]).toEqual([1, 1]);
  });

  it('keeps the async context (AsyncLocalStorage) of each caller, queued or not', async () => {
    const lim = limit(2);
    const store = new AsyncLocalStorage<number>();
    const seen = await Promise.all(
      Array.from({ length: 20 }, (_, id) =>
        store.run(id, () =>
          lim(async () => {
            await Promise.resolve();
            return store.getStore();
          }),
        ),
      ),
    );
    expect(seen).toEqual(Array.from({ length: 20 }, (_, id) => id));
  });

  it('limitFunction limits the calls of one function and forwards arguments (not this)', async () => {
    const gates = [gate(), gate(), gate()];
    const started: number[] = [];
    const limited = limitFunction(
      async (i: number) => {
        started.push(i);
        await gates[i]!.promise;
        return i * 2;
      },
      { concurrency: 2 },
    );
    const results = [0, 1, 2].map((i) => limited(i));
    await flush();
    expect(started).toEqual([0, 1]);
    gates.forEach((g) => g.open());
    expect(await Promise.all(results)).toEqual([0, 2, 4]);
  });

  it('limitFunction has clearQueue, honouring rejectOnClear', async () => {
    const blocker = gate();
    const limited = limitFunction(() => blocker.promise, { concurrency: 1, rejectOnClear: true });
    const active = limited();
    const queued = limited();
    limited.clearQueue();
    expect(((await rejectionOf(queued)) as DOMException).name).toBe('AbortError');
    blocker.open();
    await active;
  });
});
