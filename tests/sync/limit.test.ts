import fc from 'fast-check';
import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import { limit, limitFunction } from '../../src/sync/index.js';
import { flush, rejectionOf } from '../helpers.js';

describe('limit: validation messages', () => {
  it('names the argument and the value', () => {
    expect(() => limit(0)).toThrow(
      new RangeError('limit: concurrency must be an integer from 1 up, or Infinity, got 0'),
    );
    expect(() => limit(1.5)).toThrow(RangeError);
    expect(() => limit(Number.NaN)).toThrow(RangeError);
    expect(() => limit(-Infinity)).toThrow(RangeError);
    expect(() => limit('2' as unknown as number)).toThrow(
      new TypeError('limit: concurrency must be an integer from 1 up, or Infinity, got "2"'),
    );
    expect(() => limit({ concurrency: 2, rejectOnClear: 1 as unknown as boolean })).toThrow(
      new TypeError('limit: rejectOnClear must be a boolean, got 1'),
    );
    expect(() => limitFunction(async () => {}, { concurrency: 0 })).toThrow(
      new RangeError('limitFunction: concurrency must be an integer from 1 up, or Infinity, got 0'),
    );
    expect(() => limitFunction('f' as unknown as () => void, 1)).toThrow(
      new TypeError('limitFunction: fn must be a function, got "f"'),
    );
  });

  it('rejects (never throws) when called with something that is not a function', async () => {
    const lim = limit(1);
    let call: Promise<unknown> | undefined;
    expect(() => (call = lim(42 as unknown as () => void))).not.toThrow();
    expect(await rejectionOf(call!)).toEqual(new TypeError('limit: fn must be a function, got 42'));
    expect(lim.activeCount).toBe(0);
    expect(await rejectionOf(lim.map([1], 'm' as unknown as () => void))).toEqual(
      new TypeError('limit.map: mapper must be a function, got "m"'),
    );
  });

  it('gives every call discarded by clearQueue its own AbortError', async () => {
    const lim = limit({ concurrency: 1, rejectOnClear: true });
    void lim(() => new Promise(() => {}));
    const a = lim(() => 1);
    const b = lim(() => 2);
    lim.clearQueue();
    const [ea, eb] = [await rejectionOf(a), await rejectionOf(b)];
    expect((ea as DOMException).message).toBe('This operation was aborted');
    expect(ea).not.toBe(eb);
  });
});

describe('limit: raising concurrency', () => {
  it('starts a call made right after concurrency went up, before the catch-up microtask', async () => {
    const lim = limit(1);
    let release!: () => void;
    const first = lim(() => new Promise<void>((resolve) => (release = resolve)));
    const second = lim(async () => 'second');
    lim.concurrency = 3;
    const third = lim(async () => 'third'); // admitted at once, together with `second`
    expect(await third).toBe('third');
    expect(await second).toBe('second');
    expect(lim.activeCount).toBe(1);
    release();
    await first;
    expect([lim.activeCount, lim.pendingCount]).toEqual([0, 0]);
  });

  it('settles every call exactly once when concurrency changes between synchronous calls', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 4 })), { minLength: 1, maxLength: 30 }),
        async (ops) => {
          const lim = limit(1);
          const settled: number[] = [];
          const calls: Promise<unknown>[] = [];
          for (const [index, op] of ops.entries()) {
            if (op === 0) {
              calls.push(lim(async () => index).then((value) => settled.push(value)));
            } else {
              lim.concurrency = op;
            }
          }
          await Promise.all(calls);
          const expected = ops.flatMap((op, index) => (op === 0 ? [index] : []));
          expect([...settled].sort((a, b) => a - b)).toEqual(expected);
          expect([lim.activeCount, lim.pendingCount]).toEqual([0, 0]);
        },
      ),
    );
  });
});

describe('limitFunction', () => {
  it('exposes activeCount, pendingCount and a settable concurrency of its limiter', async () => {
    let release!: () => void;
    const blocker = new Promise<void>((resolve) => (release = resolve));
    const limited = limitFunction(() => blocker, { concurrency: 1 });
    const calls = [limited(), limited(), limited()];
    expect([limited.activeCount, limited.pendingCount, limited.concurrency]).toEqual([1, 2, 1]);
    limited.concurrency = 3;
    await flush();
    expect([limited.activeCount, limited.pendingCount]).toEqual([3, 0]);
    expect(() => (limited.concurrency = -1)).toThrow(RangeError);
    release();
    await Promise.all(calls);
    expect(limited.activeCount).toBe(0);
  });
});

describe('limit: same observable behaviour as p-limit 7.3', () => {
  type Op =
    | { kind: 'call'; outcome: 'resolve' | 'reject' | 'sync' | 'throw' }
    | { kind: 'finish'; pick: number }
    | { kind: 'concurrency'; value: number }
    | { kind: 'clear' };

  const op: fc.Arbitrary<Op> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('call' as const),
        outcome: fc.constantFrom('resolve' as const, 'reject' as const, 'sync' as const, 'throw' as const),
      }),
    },
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('finish' as const), pick: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('concurrency' as const),
        value: fc.integer({ min: 1, max: 4 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const) }) },
  );

  interface Limiter {
    (fn: () => unknown): Promise<unknown>;
    readonly activeCount: number;
    readonly pendingCount: number;
    concurrency: number;
    clearQueue: () => void;
  }

  /**
   * Replays `ops` on a limiter and records what an observer sees at each step: the functions started (in order), the
   * calls settled (in order) and the counts once microtasks ran. How starts interleave with settlements inside one
   * step is left out: it depends on the engine's promise-adoption ticks (V8 12 and 13 differ), not on the limiter.
   */
  async function trace(make: () => Limiter, ops: Op[]): Promise<unknown[]> {
    const lim = make();
    const log: unknown[] = [];
    const events: string[] = [];
    const step = (counts: unknown[]) => {
      log.push({
        starts: events.filter((e) => e.startsWith('start')),
        settled: events.filter((e) => !e.startsWith('start')),
        counts,
      });
      events.length = 0;
    };
    const running: { id: number; settle: (ok: boolean) => void }[] = [];
    let next = 0;
    for (const o of ops) {
      if (o.kind === 'call') {
        const id = next++;
        lim(() => {
          events.push(`start ${id}`);
          if (o.outcome === 'sync') return id;
          if (o.outcome === 'throw') throw new Error(String(id));
          return new Promise((resolve, reject) => {
            running.push({ id, settle: (ok) => (ok ? resolve(id) : reject(new Error(String(id)))) });
          });
        }).then(
          (value) => events.push(`fulfilled ${id} ${String(value)}`),
          (error: unknown) => events.push(`rejected ${id} ${(error as Error).name}`),
        );
      } else if (o.kind === 'finish') {
        if (running.length === 0) continue;
        const [task] = running.splice(o.pick % running.length, 1);
        task!.settle(o.pick % 2 === 0);
      } else if (o.kind === 'concurrency') {
        lim.concurrency = o.value;
      } else {
        lim.clearQueue();
      }
      await flush(30);
      step([lim.activeCount, lim.pendingCount, lim.concurrency]);
    }
    while (running.length > 0) {
      running.shift()!.settle(true);
      await flush(30);
      step([lim.activeCount, lim.pendingCount]);
    }
    return log;
  }

  it('produces the same trace of starts, settlements and counts as p-limit for random workloads', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.array(op, { maxLength: 30 }),
        async (concurrency, rejectOnClear, ops) => {
          const options = { concurrency, rejectOnClear };
          const theirs = await trace(() => pLimit(options), ops);
          const ours = await trace(() => limit(options), ops);
          expect(ours).toEqual(theirs);
        },
      ),
      { numRuns: 200 },
    );
  });
});
