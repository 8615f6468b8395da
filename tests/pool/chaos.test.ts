import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerCrashedError, WorkerPool } from 'weftjs/pool';
import { RUNTIMES } from './runtimes.js';

const worker = new URL('../fixtures/pool/worker.mjs', import.meta.url);
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A small seeded generator, so a failing run can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Kind = 'echo' | 'spin' | 'crash' | 'exit' | 'abort' | 'timeout';

describe.each(RUNTIMES)('WorkerPool: chaos (%s)', (runtime) => {
  // A process takes ten times longer than a thread to replace: fewer tasks keep the crash count (and time) sane.
  const count = runtime === 'thread' ? 2000 : 600;

  it(`${count} tasks with 5 % crashes, aborts and timeouts: each settles once, as expected`, async () => {
    const seed = Number(process.env.WEFT_CHAOS_SEED ?? 20_251_123);
    const next = random(seed);
    const threads = 2;
    const pool = new WorkerPool({
      worker,
      minThreads: threads,
      maxThreads: threads,
      abortGrace: 50,
      runtime,
    });
    const settled = new Uint8Array(count);
    const kinds: Kind[] = [];
    const outcomes: Promise<void>[] = [];
    for (let i = 0; i < count; i++) {
      const roll = next();
      const kind: Kind =
        roll < 0.0125
          ? 'crash'
          : roll < 0.025
            ? 'exit'
            : roll < 0.0375
              ? 'abort'
              : roll < 0.05
                ? 'timeout'
                : roll < 0.1
                  ? 'spin'
                  : 'echo';
      kinds.push(kind);
      let promise: Promise<unknown>;
      let check: (ok: boolean, value: unknown) => void;
      switch (kind) {
        case 'echo':
          promise = pool.run('echo', [i]);
          check = (ok, value) => expect([ok, value]).toEqual([true, i]);
          break;
        case 'spin':
          promise = pool.run('spin', [1, i]);
          check = (ok, value) => expect([ok, value]).toEqual([true, i]);
          break;
        case 'crash':
        case 'exit':
          promise = kind === 'crash' ? pool.run('crashInTimer', [`crash ${i}`]) : pool.run('exit', [7]);
          check = (ok, value) => {
            expect(ok).toBe(false);
            expect(value).toBeInstanceOf(WorkerCrashedError);
          };
          break;
        case 'abort': {
          const controller = new AbortController();
          promise = pool.run('sleep', [20, i], { signal: controller.signal });
          setTimeout(() => controller.abort(), Math.floor(next() * 30));
          check = (ok, value) => {
            if (ok) expect(value).toBe(i);
            else expect((value as DOMException).name).toBe('AbortError');
          };
          break;
        }
        case 'timeout':
          promise = pool.run(next() < 0.5 ? 'sleep' : 'stubborn', [200, i], { timeout: 10 });
          check = (ok, value) => {
            expect(ok).toBe(false);
            expect((value as DOMException).name).toBe('TimeoutError');
          };
          break;
      }
      outcomes.push(
        promise.then(
          (value) => {
            settled[i]!++;
            check(true, value);
          },
          (error: unknown) => {
            settled[i]!++;
            check(false, error);
          },
        ),
      );
    }
    await Promise.all(outcomes);
    expect(settled.every((count) => count === 1)).toBe(true);
    const stats = pool.stats;
    expect(stats.completed + stats.failed).toBe(count);
    const crashes = kinds.filter((k) => k === 'crash' || k === 'exit').length;
    expect(stats.crashed).toBe(crashes);
    // Replacements come back up to the configured size, and a worker still running an abandoned task (a timed-out
    // `stubborn` one, within its 50 ms abortGrace when the last promise settled) is stopped and replaced.
    const settledDown = (): boolean => pool.stats.threads === threads && pool.stats.busy === 0;
    for (let i = 0; i < 200 && !settledDown(); i++) await delay(10);
    expect(pool.stats).toMatchObject({ threads, busy: 0, queued: 0 });
    await pool.close();
    expect(pool.stats.threads).toBe(0);
  });
});

describe.each(RUNTIMES)('WorkerPool: properties (%s)', (runtime) => {
  const pool = new WorkerPool({ worker, maxThreads: 2, abortGrace: 50, runtime });
  afterAll(() => pool.close());

  const op = fc.oneof(
    fc.record({ kind: fc.constant('echo' as const), value: fc.jsonValue() }),
    fc.record({ kind: fc.constant('fail' as const), value: fc.string() }),
    fc.record({ kind: fc.constant('preAborted' as const), value: fc.integer() }),
    fc.record({ kind: fc.constant('abort' as const), value: fc.integer({ min: 0, max: 5 }) }),
  );

  it('every task settles once with its own outcome, and the counters add up', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 60 }), async (ops) => {
        const before = pool.stats;
        const results = await Promise.allSettled(
          ops.map((o) => {
            switch (o.kind) {
              case 'echo':
                return pool.run('echo', [o.value]);
              case 'fail':
                return pool.run('fail', [o.value]);
              case 'preAborted':
                return pool.run('echo', [o.value], { signal: AbortSignal.abort() });
              case 'abort': {
                const controller = new AbortController();
                setTimeout(() => controller.abort(), o.value);
                return pool.run('sleep', [3, 'slept'], { signal: controller.signal });
              }
            }
          }),
        );
        let accepted = 0;
        results.forEach((result, i) => {
          const o = ops[i]!;
          if (o.kind !== 'preAborted') accepted++;
          if (o.kind === 'echo') expect(result).toEqual({ status: 'fulfilled', value: o.value });
          else if (o.kind === 'fail') {
            expect(result.status).toBe('rejected');
            expect(((result as PromiseRejectedResult).reason as Error).message).toBe(o.value);
          } else if (o.kind === 'preAborted') {
            expect(((result as PromiseRejectedResult).reason as DOMException).name).toBe('AbortError');
          } else if (result.status === 'fulfilled') expect(result.value).toBe('slept');
          else expect((result.reason as DOMException).name).toBe('AbortError');
        });
        const after = pool.stats;
        expect(after.completed + after.failed - before.completed - before.failed).toBe(accepted);
        expect(after.queued).toBe(0);
      }),
      { numRuns: 25 },
    );
  });
});
