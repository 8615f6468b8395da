import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Barrier } from '../../src/sync/index.js';
import { expectPending, flush, rejectionOf } from '../helpers.js';

describe('Barrier', () => {
  it('validates parties', () => {
    expect(() => new Barrier(0)).toThrow(
      new RangeError('Barrier: parties must be a positive integer, got 0'),
    );
    expect(() => new Barrier(-2)).toThrow(RangeError);
    expect(() => new Barrier('2' as unknown as number)).toThrow(
      new TypeError('Barrier: parties must be a positive integer, got "2"'),
    );
  });

  it('releases everyone once all parties arrived, with their 0-based arrival indices', async () => {
    const barrier = new Barrier(3);
    const a = barrier.wait();
    const b = barrier.wait();
    expect(barrier.waiting).toBe(2);
    await expectPending(a);
    const c = barrier.wait();
    expect(await Promise.all([a, b, c])).toEqual([0, 1, 2]);
    expect(barrier.waiting).toBe(0);
    expect(barrier.parties).toBe(3);
  });

  it('is cyclic: each generation starts counting from 0 again', async () => {
    const barrier = new Barrier(2);
    for (let round = 0; round < 3; round++) {
      expect(await Promise.all([barrier.wait(), barrier.wait()])).toEqual([0, 1]);
    }
  });

  it('with one party every wait passes at once with index 0', async () => {
    const barrier = new Barrier(1);
    expect(await barrier.wait()).toBe(0);
    expect(await barrier.wait()).toBe(0);
  });

  it('withdraws an aborted arrival: it no longer counts, and the indices stay 0..parties-1', async () => {
    const barrier = new Barrier(3);
    const controller = new AbortController();
    const a = barrier.wait();
    const gone = barrier.wait({ signal: controller.signal });
    controller.abort(new Error('left'));
    expect(((await rejectionOf(gone)) as Error).message).toBe('left');
    expect(barrier.waiting).toBe(1);
    const b = barrier.wait();
    await expectPending(b);
    const c = barrier.wait();
    expect(await Promise.all([a, b, c])).toEqual([0, 1, 2]);
  });

  it('rejects at once for an aborted signal, even if it would complete the round', async () => {
    const barrier = new Barrier(2);
    const a = barrier.wait();
    const reason = new Error('no');
    expect(await rejectionOf(barrier.wait({ signal: AbortSignal.abort(reason) }))).toBe(reason);
    await expectPending(a);
    expect(await Promise.all([a, barrier.wait()])).toEqual([0, 1]);
  });

  it('generations under random arrivals and aborts: each round hands out exactly 0..parties-1', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 5 }),
        fc.array(fc.record({ abort: fc.boolean(), abortLater: fc.nat(5) }), { maxLength: 30 }),
        async (parties, arrivals) => {
          const barrier = new Barrier(parties);
          const results: number[] = [];
          const pendingAborts: { at: number; controller: AbortController }[] = [];
          let rejected = 0;
          for (const [i, arrival] of arrivals.entries()) {
            const controller = new AbortController();
            barrier.wait({ signal: controller.signal }).then(
              (index) => results.push(index),
              () => rejected++,
            );
            if (arrival.abort) pendingAborts.push({ at: i + arrival.abortLater, controller });
            for (const p of pendingAborts.filter((p) => p.at === i)) p.controller.abort();
            await flush(3);
          }
          await flush();
          const still = barrier.waiting;
          expect(results.length + rejected + still).toBe(arrivals.length);
          expect(still).toBeLessThan(parties);
          expect(results.length % parties).toBe(0);
          const counts = new Map<number, number>();
          for (const index of results) counts.set(index, (counts.get(index) ?? 0) + 1);
          const rounds = results.length / parties;
          for (let index = 0; index < parties; index++) expect(counts.get(index) ?? 0).toBe(rounds);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('Barrier: timeouts (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('a timed-out arrival is withdrawn and rejects with a TimeoutError', async () => {
    const barrier = new Barrier(2);
    const outcome = rejectionOf(barrier.wait({ timeout: 30 }));
    await vi.advanceTimersByTimeAsync(30);
    const error = (await outcome) as DOMException;
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toBe('Barrier.wait timed out after 30 ms');
    expect(barrier.waiting).toBe(0);
  });

  it('timeout 0 succeeds only for the arrival that completes the round', async () => {
    const barrier = new Barrier(2);
    expect(((await rejectionOf(barrier.wait({ timeout: 0 }))) as DOMException).name).toBe('TimeoutError');
    expect(barrier.waiting).toBe(0);
    const first = barrier.wait();
    expect(await barrier.wait({ timeout: 0 })).toBe(1);
    expect(await first).toBe(0);
  });
});
