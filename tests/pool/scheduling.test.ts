import { describe, expect, it } from 'vitest';
import { WorkerPool } from 'weftjs/pool';
import { RUNTIMES } from './runtimes.js';

const worker = new URL('../fixtures/pool/worker.mjs', import.meta.url);

/** Resolves once two tasks running at the same time ran on two different workers. */
async function bothThreadsUp(pool: WorkerPool): Promise<void> {
  for (;;) {
    const ids = await Promise.all([0, 1].map(() => pool.run<number>('sleepThenThreadId', [30])));
    if (ids[0] !== ids[1]) return;
  }
}

describe.each(RUNTIMES)('WorkerPool: scheduling (%s)', (runtime) => {
  // A child process cannot give back a task it was sent (no shared slot table): nothing to take over.
  it.skipIf(runtime === 'process')(
    'an idle worker takes over short tasks queued behind a long one on a busy worker',
    async () => {
      await using pool = new WorkerPool({ worker, minThreads: 2, maxThreads: 2, runtime });
      await bothThreadsUp(pool);
      // Tiny tasks widen the pipelining window, so the next burst is spread over both workers in deep batches.
      await Promise.all(Array.from({ length: 500 }, (_, i) => pool.run('echo', [i])));
      const order: string[] = [];
      const long = pool.run('spin', [400, 'long']).then((v) => order.push(v as string));
      const short = Array.from({ length: 30 }, (_, i) =>
        pool.run('echo', [`short ${i}`]).then((v) => order.push(v as string)),
      );
      await Promise.all([long, ...short]);
      expect(order.at(-1)).toBe('long');
      expect(order).toHaveLength(31);
    },
  );

  it('spreads a burst over every thread', async () => {
    await using pool = new WorkerPool({ worker, minThreads: 2, maxThreads: 2, runtime });
    // 12 x 50 ms: far longer than a worker takes to start, so both threads are up while the burst runs.
    const ids = await Promise.all(
      Array.from({ length: 12 }, () => pool.run<number>('sleepThenThreadId', [50])),
    );
    expect(new Set(ids).size).toBe(2);
  });

  it('uses at most maxThreads threads and starts them on demand', async () => {
    await using pool = new WorkerPool({ worker, maxThreads: 3, runtime });
    expect(pool.stats.threads).toBe(0);
    await Promise.all(Array.from({ length: 12 }, () => pool.run('sleep', [20])));
    expect(pool.stats.threads).toBe(3);
  });

  it('reports busy and queued tasks while they wait', async () => {
    await using pool = new WorkerPool({ worker, maxThreads: 1, runtime });
    await pool.run('echo', [0]);
    const tasks = [pool.run('sleep', [300]), pool.run('echo', [1]), pool.run('echo', [2])];
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(pool.stats).toMatchObject({ threads: 1, busy: 1, queued: 2 });
    await Promise.all(tasks);
    expect(pool.stats).toMatchObject({ busy: 0, queued: 0, completed: 4 });
    expect(pool.stats.waitTime.p99).toBeGreaterThan(50);
  });
});
