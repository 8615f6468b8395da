import { afterAll, describe, expect, it } from 'vitest';
import { PoolClosedError, WorkerPool } from 'weftjs/pool';
import { rejectionOf } from '../helpers.js';
import { cells, RUNTIMES } from './runtimes.js';

const worker = new URL('../fixtures/pool/worker.mjs', import.meta.url);
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

describe.each(RUNTIMES)('WorkerPool.stream (%s)', (runtime) => {
  // One child process, so that a later task reads the cells a stream wrote (see cells()).
  const pool = new WorkerPool({ worker, maxThreads: runtime === 'thread' ? 2 : 1, abortGrace: 200, runtime });
  afterAll(() => pool.close());

  it('yields the values of an async generator, then ends', async () => {
    expect(await collect(pool.stream<number>('count', [5]))).toEqual([1, 2, 3, 4, 5]);
  });

  it('yields the values of a sync generator', async () => {
    expect(await collect(pool.stream<number>('syncCount', [100]))).toEqual(
      Array.from({ length: 100 }, (_, i) => i + 1),
    );
  });

  it('starts on the first next(), not before', async () => {
    const progress = await cells(pool, runtime);
    const stream = pool.stream<number>('count', [3, progress.arg]);
    await delay(30);
    expect(await progress.read(0)).toBe(0);
    expect(await stream.next()).toEqual({ done: false, value: 1 });
    await stream.return();
  });

  it('applies backpressure: the worker runs at most a small window ahead of the consumer', async () => {
    const progress = await cells(pool, runtime);
    const stream = pool.stream<number>('count', [1_000_000, progress.arg]);
    for (let i = 1; i <= 3; i++) expect((await stream.next()).value).toBe(i);
    await delay(50);
    await stream.return(); // the generator stops where it was
    const produced = await progress.read(0);
    expect(produced).toBeGreaterThanOrEqual(3);
    expect(produced).toBeLessThanOrEqual(3 + 8 + 1);
  });

  it('breaking out of for-await stops the worker generator and runs its finally before returning', async () => {
    const progress = await cells(pool, runtime);
    for await (const value of pool.stream<number>('count', [1_000_000, progress.arg])) {
      if (value === 4) break;
    }
    expect(await progress.read(1)).toBe(1); // finally ran before the loop exited
    expect(await progress.read(0)).toBeLessThan(20);
    expect(await pool.run('echo', ['worker free again'])).toBe('worker free again');
  });

  it('raises the generator error after the values produced before it', async () => {
    const seen: number[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const value of pool.stream<number>('failAfter', [3])) seen.push(value);
      })(),
    );
    expect(seen).toEqual([1, 2, 3]);
    expect((error as Error).message).toBe('failed after 3');
  });

  it('rejects next() at once on abort and stops the generator', async () => {
    const controller = new AbortController();
    const stream = pool.stream<number>('forever', [], { signal: controller.signal });
    expect((await stream.next()).done).toBe(false);
    controller.abort(new Error('enough'));
    expect(((await rejectionOf(stream.next())) as Error).message).toBe('enough');
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('times out a stream from its start', async () => {
    const stream = pool.stream<number>('forever', [], { timeout: 40 });
    const error = await rejectionOf(collect(stream));
    expect((error as DOMException).name).toBe('TimeoutError');
  });

  it('ends a stream whose value cannot be cloned with DataCloneError, stopping the generator', async () => {
    const progress = await cells(pool, runtime);
    const seen: number[] = [];
    const error = await rejectionOf(
      (async () => {
        for await (const value of pool.stream<number>('badYield', [progress.arg])) seen.push(value);
      })(),
    );
    expect(seen).toEqual([1]);
    expect((error as DOMException).name).toBe('DataCloneError');
    expect((error as DOMException).message).toMatch(/value yielded by badYield could not be cloned/);
    expect(await progress.read(1)).toBe(1);
    expect(await pool.run('echo', ['fine'])).toBe('fine');
  });

  it('rejects stream on a plain function, and run on a generator', async () => {
    expect(((await rejectionOf(collect(pool.stream('echo', [1])))) as Error).message).toMatch(
      /did not return an iterable/,
    );
    expect(((await rejectionOf(pool.run('syncCount', [1]))) as Error).message).toMatch(/generator function/);
  });

  it('reports bad arguments and unknown names on the first next()', async () => {
    const bad = pool.stream(1 as unknown as string);
    expect(await rejectionOf(bad.next())).toBeInstanceOf(TypeError);
    expect(await rejectionOf(pool.stream('nope').next())).toBeInstanceOf(RangeError);
  });

  it('return() before the first next() starts nothing', async () => {
    const stream = pool.stream('count', [3]);
    expect(await stream.return()).toEqual({ done: true, value: undefined });
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });

  it('serves concurrent next() calls in order', async () => {
    const stream = pool.stream<number>('count', [3]);
    const results = await Promise.all([stream.next(), stream.next(), stream.next(), stream.next()]);
    expect(results.map((r) => r.value)).toEqual([1, 2, 3, undefined]);
    expect(results[3]?.done).toBe(true);
  });
});

describe.each(RUNTIMES)('WorkerPool.stream: stopping (%s)', (runtime) => {
  it('return() on a stream still waiting in the queue removes it', async () => {
    await using pool = new WorkerPool({ worker, maxThreads: 1, runtime });
    await pool.run('echo', [0]); // the worker is up
    const progress = await cells(pool, runtime);
    const { completed } = pool.stats;
    const busy = pool.run('sleep', [60, 'busy']);
    const stream = pool.stream<number>('count', [3, progress.arg]);
    const first = stream.next();
    await delay(10);
    expect(pool.stats.queued).toBe(1);
    expect(await stream.return()).toEqual({ done: true, value: undefined });
    expect(await first).toEqual({ done: true, value: undefined });
    expect(await busy).toBe('busy');
    expect(pool.stats).toMatchObject({ queued: 0, failed: 0, completed: completed + 2 });
    expect(await progress.read(0)).toBe(0); // it never ran
  });

  it('a generator that ignores the stop is terminated after abortGrace, and return() resolves', async () => {
    await using pool = new WorkerPool({ worker, maxThreads: 1, abortGrace: 50, runtime });
    const id = await pool.run<number>('threadId');
    for await (const value of pool.stream<number>('stuck')) {
      expect(value).toBe(1);
      break; // resolves once the worker is gone
    }
    expect(await pool.run<number>('threadId')).not.toBe(id);
    expect(pool.stats.crashed).toBe(0);
  });
});

describe.each(RUNTIMES)('WorkerPool.stream and close (%s)', (runtime) => {
  it('rejects a stream with PoolClosedError on a forced close', async () => {
    const pool = new WorkerPool({ worker, maxThreads: 1, runtime });
    const stream = pool.stream<number>('forever');
    await stream.next();
    await pool.close({ force: true });
    expect(await rejectionOf(stream.next())).toBeInstanceOf(PoolClosedError);
    expect(await stream.next()).toEqual({ done: true, value: undefined });
  });
});
