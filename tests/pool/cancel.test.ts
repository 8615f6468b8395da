import { afterAll, describe, expect, it } from 'vitest';
import { WorkerPool } from 'weftjs/pool';
import { rejectionOf } from '../helpers.js';
import { cells, RUNTIMES, until } from './runtimes.js';

const worker = new URL('../fixtures/pool/worker.mjs', import.meta.url);
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(RUNTIMES)('WorkerPool: abort and timeout (%s)', (runtime) => {
  const pool = new WorkerPool({ worker, maxThreads: 1, abortGrace: 100, runtime });
  afterAll(() => pool.close());

  it('rejects at once with the reason of an already aborted signal', async () => {
    const reason = new Error('already');
    const promise = pool.run('echo', [1], { signal: AbortSignal.abort(reason) });
    expect(await rejectionOf(promise)).toBe(reason);
    expect(pool.stats.queued).toBe(0);
  });

  it('removes an aborted queued task: it never runs and nothing behind it is skipped', async () => {
    const first = await pool.run<number>('calls');
    const blocker = pool.run('sleep', [50]);
    const controllers = [0, 1, 2, 3, 4].map(() => new AbortController());
    const tasks = controllers.map((c) => pool.run<number>('calls', [], { signal: c.signal }));
    await Promise.resolve();
    controllers[1]!.abort();
    controllers[3]!.abort(new Error('mine'));
    const outcomes = await Promise.allSettled(tasks);
    await blocker;
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect(((outcomes[1] as PromiseRejectedResult).reason as DOMException).name).toBe('AbortError');
    expect(((outcomes[3] as PromiseRejectedResult).reason as Error).message).toBe('mine');
    // Only the three survivors ran, in order.
    expect(outcomes.filter((o) => o.status === 'fulfilled').map((o) => o.value)).toEqual([
      first + 1,
      first + 2,
      first + 3,
    ]);
    expect(await pool.run('calls')).toBe(first + 4);
  });

  it('also removes a task already handed to a busy worker but not started there', async () => {
    const first = await pool.run<number>('calls');
    // Short tasks are pipelined to the worker behind the running one; aborting one takes it back.
    const running = pool.run('spin', [60]);
    const controller = new AbortController();
    const before = pool.run<number>('calls');
    const victim = pool.run<number>('calls', [], { signal: controller.signal });
    const after = pool.run<number>('calls');
    await delay(20);
    controller.abort();
    expect(((await rejectionOf(victim)) as Error).name).toBe('AbortError');
    await running;
    expect([await before, await after]).toEqual([first + 1, first + 2]);
  });

  it('aborts this.signal of a running task and rejects with the reason at once', async () => {
    const flags = await cells(pool, runtime);
    const controller = new AbortController();
    const task = pool.run('watchAbort', [flags.arg], { signal: controller.signal });
    await delay(20);
    const crashed = pool.stats.crashed;
    controller.abort();
    expect(((await rejectionOf(task)) as DOMException).name).toBe('AbortError');
    await until(async () => (await flags.read(0)) !== 0);
    expect(await flags.read(0)).toBe(1);
    expect(await pool.run('echo', ['next'])).toBe('next');
    expect(pool.stats.crashed).toBe(crashed);
  });

  it('times out a running task with a TimeoutError that the worker sees too', async () => {
    const flags = await cells(pool, runtime);
    const error = (await rejectionOf(pool.run('watchAbort', [flags.arg], { timeout: 30 }))) as DOMException;
    expect(error).toBeInstanceOf(DOMException);
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toMatch(/WorkerPool\.run\(watchAbort\) timed out after 30 ms/);
    await until(async () => (await flags.read(0)) !== 0);
    expect(await flags.read(0)).toBe(2);
  });

  it('counts the timeout from the start of the task, not from run()', async () => {
    const long = pool.run('sleep', [400, 'long']);
    const queued = pool.run('sleep', [10, 'queued'], { timeout: 250 });
    expect(await long).toBe('long');
    expect(await queued).toBe('queued');
  });

  it('terminates and replaces a worker that ignores the abort after abortGrace', async () => {
    const id = await pool.run<number>('threadId');
    const controller = new AbortController();
    const stubborn = pool.run('stubborn', [10_000], { signal: controller.signal });
    const behind = pool.run('echo', ['behind']);
    await delay(20);
    controller.abort();
    expect(((await rejectionOf(stubborn)) as Error).name).toBe('AbortError');
    // The caller does not wait for the grace period: the worker is still busy with the task.
    expect(pool.stats.busy).toBe(1);
    expect(await behind).toBe('behind');
    expect(await pool.run<number>('threadId')).not.toBe(id);
    expect(pool.stats.crashed).toBe(0); // a termination the pool asked for is not a crash
    expect(pool.stats.threads).toBe(1);
  });

  it('terminates a worker stuck in synchronous code after a timeout', async () => {
    const error = (await rejectionOf(pool.run('spin', [5000], { timeout: 20 }))) as DOMException;
    expect(error.name).toBe('TimeoutError');
    const started = Date.now();
    expect(await pool.run('echo', ['replaced'])).toBe('replaced');
    expect(Date.now() - started).toBeLessThan(4000);
  });
});

describe.each(RUNTIMES)('WorkerPool: taskTimeout (%s)', (runtime) => {
  it('applies to every run unless the call passes its own timeout', async () => {
    await using pool = new WorkerPool({ worker, maxThreads: 1, taskTimeout: 30, runtime });
    expect(((await rejectionOf(pool.run('sleep', [500]))) as DOMException).name).toBe('TimeoutError');
    expect(await pool.run('sleep', [60, 'ok'], { timeout: 1000 })).toBe('ok');
    expect(pool.stats.failed).toBe(1);
  });
});
