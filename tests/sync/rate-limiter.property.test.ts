/**
 * RateLimiter against random arrival patterns, weights, aborts and timeouts, on fake time (timers and
 * `performance.now()`), checking every sliding window and every admission time against what the window allowed.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiter } from '../../src/sync/index.js';
import { admissionLogOf } from '../../src/sync/rate-limiter.js';

type Cancel =
  | { kind: 'none' }
  | { kind: 'abort'; after: number }
  | { kind: 'timeout'; after: number }
  | { kind: 'aborted' };

interface Op {
  kind: 'take' | 'run' | 'try';
  weight: number;
  /** Milliseconds after the previous arrival. */
  gap: number;
  cancel: Cancel;
}

interface Record {
  op: Op;
  arrival: number;
  admitted?: number;
  /** When it was rejected (abort, timeout, an already-aborted signal) or found no room (tryTake). */
  refused?: number;
  reason?: unknown;
}

const arbitraryOps = (limit: number, interval: number): fc.Arbitrary<Op[]> => {
  const cancel: fc.Arbitrary<Cancel> = fc.oneof(
    { weight: 5, arbitrary: fc.constant({ kind: 'none' as const }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('abort' as const),
        after: fc.integer({ min: 1, max: 2 * interval }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('timeout' as const),
        after: fc.integer({ min: 0, max: 2 * interval }),
      }),
    },
    { weight: 1, arbitrary: fc.constant({ kind: 'aborted' as const }) },
  );
  const op: fc.Arbitrary<Op> = fc.record({
    kind: fc.constantFrom('take' as const, 'run' as const, 'try' as const),
    weight: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: limit })),
    // Bursts (0), trickles, and gaps that let the window empty.
    gap: fc.oneof(
      fc.constant(0),
      fc.integer({ min: 0, max: interval }),
      fc.integer({ min: 0, max: 3 * interval }),
    ),
    cancel,
  });
  return fc.array(op, { maxLength: 40 });
};

/** Drives a limiter through `ops` on the fake clock and records what happened to each call. */
async function drive(limiter: RateLimiter, ops: Op[], interval: number): Promise<Record[]> {
  const start = performance.now();
  const clock = (): number => performance.now() - start;
  const records: Record[] = [];
  const order: number[] = [];
  for (const op of ops) {
    await vi.advanceTimersByTimeAsync(op.gap);
    const index = records.length;
    const record: Record = { op, arrival: clock() };
    records.push(record);
    if (op.kind === 'try') {
      if (limiter.tryTake(op.weight)) record.admitted = clock();
      else record.refused = clock();
      continue;
    }
    let signal: AbortSignal | undefined;
    let timeout: number | undefined;
    if (op.cancel.kind === 'aborted') signal = AbortSignal.abort();
    if (op.cancel.kind === 'abort') {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), op.cancel.after);
      signal = controller.signal;
    }
    if (op.cancel.kind === 'timeout') timeout = op.cancel.after;
    const admitted = (): void => {
      expect(record.admitted).toBeUndefined(); // admitted at most once
      record.admitted = clock();
      order.push(index);
    };
    const promise =
      op.kind === 'take'
        ? limiter.take(op.weight, { signal, timeout }).then(admitted)
        : limiter.run(admitted, { weight: op.weight, signal, timeout });
    promise.catch((reason: unknown) => {
      record.refused = clock();
      record.reason = reason;
    });
  }
  // Let everything still queued through: each waiter needs at most one window once the one before it is in.
  for (let i = 0; i <= ops.length + 2; i++) await vi.advanceTimersByTimeAsync(interval);
  // Admissions happen in arrival order (tryTake excepted: it is either admitted at once or not at all).
  expect(order).toEqual([...order].sort((a, b) => a - b));
  return records;
}

/** Weight admitted in the window (time - interval, time] by the given records. */
function windowWeight(records: readonly Record[], time: number, interval: number): number {
  let sum = 0;
  for (const r of records) {
    if (r.admitted !== undefined && r.admitted > time - interval && r.admitted <= time) sum += r.op.weight;
  }
  return sum;
}

describe('RateLimiter: properties on fake time', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('never admits more than `limit` in any window, admits everyone not cancelled, in FIFO order, as soon as the window allows', async () => {
    const params = fc
      .record({ limit: fc.integer({ min: 1, max: 6 }), interval: fc.integer({ min: 1, max: 50 }) })
      .chain(({ limit, interval }) =>
        fc.tuple(fc.constant(limit), fc.constant(interval), arbitraryOps(limit, interval)),
      );
    await fc.assert(
      fc.asyncProperty(params, async ([limit, interval, ops]) => {
        const limiter = new RateLimiter({ limit, interval });
        const records = await drive(limiter, ops, interval);

        // Every window: the worst window ends at an admission, so checking those checks them all.
        for (const r of records) {
          if (r.admitted !== undefined)
            expect(windowWeight(records, r.admitted, interval)).toBeLessThanOrEqual(limit);
        }

        // Each call against the model: a queued call becomes the head when everyone before it has been admitted or
        // has left; from then on it is admitted at the first moment its weight fits in the window.
        let headSince = 0;
        for (let i = 0; i < records.length; i++) {
          const r = records[i]!;
          const before = records.slice(0, i);
          const ready = Math.max(r.arrival, headSince);
          const fits = (time: number): boolean => windowWeight(before, time, interval) + r.op.weight <= limit;
          // The window only empties from `ready` on (nobody after this call is admitted before it).
          const candidates = [
            ready,
            ...before.flatMap((b) => (b.admitted === undefined ? [] : [b.admitted + interval])),
          ];
          const expected = Math.min(...candidates.filter((t) => t >= ready && fits(t)));
          const { cancel } = r.op;
          if (r.op.kind === 'try') {
            // tryTake never jumps the queue: admitted exactly when nobody waits and it fits now.
            expect(r.admitted !== undefined).toBe(expected === r.arrival);
            continue;
          }
          if (cancel.kind === 'aborted') {
            expect(r.refused).toBe(r.arrival);
            expect((r.reason as DOMException).name).toBe('AbortError');
            continue;
          }
          if (r.admitted !== undefined) {
            expect(r.admitted).toBe(expected);
            if (cancel.kind !== 'none') expect(r.admitted).toBeLessThanOrEqual(r.arrival + cancel.after);
            headSince = Math.max(headSince, r.admitted);
          } else {
            // Only a cancelled call is left out, and only if it was cancelled before its turn came.
            expect(cancel.kind === 'abort' || cancel.kind === 'timeout').toBe(true);
            const at = r.arrival + (cancel as { after: number }).after;
            expect(r.refused).toBe(at);
            expect(at).toBeLessThanOrEqual(expected);
            expect((r.reason as DOMException).name).toBe(
              cancel.kind === 'abort' ? 'AbortError' : 'TimeoutError',
            );
            headSince = Math.max(headSince, at);
          }
        }

        // Idle again: nothing queued, no timer left behind.
        expect(limiter.pending).toBe(0);
        expect(vi.getTimerCount()).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('keeps at most `limit` entries in its log (memory bounded by the limit, not by traffic)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 40 })
          .chain((limit) => fc.tuple(fc.constant(limit), arbitraryOps(limit, 10))),
        async ([limit, ops]) => {
          const limiter = new RateLimiter({ limit, interval: 10 });
          const log = admissionLogOf(limiter);
          await drive(limiter, ops, 10);
          expect(log.capacity).toBeLessThanOrEqual(limit);
        },
      ),
      { numRuns: 100 },
    );
  });
});
