import { afterEach, describe, expect, it, vi } from 'vitest';
import { Scheduler, type Task } from '../../src/scheduler/index.js';
import { flush, rejectionOf } from '../helpers.js';
import { deferred, macrotask, macrotasks } from './helpers.js';

function isAbortError(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

describe('task.cancel()', () => {
  it('cancels a pending task: it never runs and rejects with an AbortError', async () => {
    const s = new Scheduler();
    let ran = false;
    const task = s.spawn(() => {
      ran = true;
    });
    task.cancel();
    expect(task.status).toBe('cancelled');
    expect(task.signal.aborted).toBe(true);
    const error = await rejectionOf(task);
    expect(isAbortError(error)).toBe(true);
    expect(task.signal.reason).toBe(error);
    await macrotask();
    expect(ran).toBe(false);
    expect(s.stats).toMatchObject({ cancelled: 1, active: 0, queued: 0 });
  });

  it('rejects with the reason given, and only the first cancel counts', async () => {
    const s = new Scheduler();
    const task = s.spawn(() => 1);
    const reason = new Error('first');
    task.cancel(reason);
    task.cancel(new Error('second'));
    expect(await rejectionOf(task)).toBe(reason);
    expect(s.stats.cancelled).toBe(1);
  });

  it('does nothing once the task has settled', async () => {
    const s = new Scheduler();
    const task = s.spawn(() => 'v');
    await task;
    task.cancel();
    expect(task.status).toBe('done');
    expect(task.signal.aborted).toBe(false);
    await expect(task).resolves.toBe('v');
  });

  it('closes a suspended generator with return(): its finally runs before cancel() returns', async () => {
    const s = new Scheduler({ sliceYields: 5, sliceMs: 10_000 });
    const log: string[] = [];
    const task = s.spawn(function* (ctx) {
      try {
        for (;;) yield;
      } finally {
        log.push(`finally, aborted=${String(ctx.signal.aborted)}`);
      }
    });
    await macrotask();
    expect(task.status).toBe('running');
    task.cancel();
    expect(log).toEqual(['finally, aborted=true']);
    expect(task.status).toBe('cancelled');
    expect(isAbortError(await rejectionOf(task))).toBe(true);
  });

  it('closes a generator waiting for a yielded promise, and ignores the promise afterwards', async () => {
    const s = new Scheduler();
    const gate = deferred<number>();
    const log: string[] = [];
    const task = s.spawn(function* () {
      try {
        const value = (yield gate.promise) as number;
        log.push(`resumed with ${value}`);
      } finally {
        log.push('finally');
      }
    });
    await macrotask();
    task.cancel();
    expect(log).toEqual(['finally']);
    gate.resolve(1);
    await macrotasks(2);
    expect(log).toEqual(['finally']);
    expect(task.status).toBe('cancelled');
    await rejectionOf(task);
  });

  it('a generator that cancels itself is closed at its next yield point', async () => {
    const s = new Scheduler();
    const log: string[] = [];
    const task: Task<void> = s.spawn(function* () {
      try {
        log.push('before');
        task.cancel(new Error('self'));
        log.push('after cancel, before yield');
        yield;
        log.push('never');
      } finally {
        log.push('finally');
      }
    });
    expect(((await rejectionOf(task)) as Error).message).toBe('self');
    expect(log).toEqual(['before', 'after cancel, before yield', 'finally']);
    expect(task.status).toBe('cancelled');
  });

  it('a generator that cancels itself and then returns is cancelled', async () => {
    const s = new Scheduler();
    // eslint-disable-next-line require-yield -- a generator that ends without ever reaching a yield point
    const task: Task<number> = s.spawn(function* () {
      task.cancel();
      return 1;
    });
    expect(isAbortError(await rejectionOf(task))).toBe(true);
    expect(task.status).toBe('cancelled');
  });

  it('fails with the cleanup error when a generator finally throws', async () => {
    const s = new Scheduler();
    const task = s.spawn(function* () {
      try {
        for (;;) yield;
      } finally {
        // eslint-disable-next-line no-unsafe-finally -- the behaviour under test
        throw new Error('cleanup failed');
      }
    });
    await macrotask();
    task.cancel();
    expect(task.status).toBe('failed');
    expect(((await rejectionOf(task)) as Error).message).toBe('cleanup failed');
    expect(s.stats.failed).toBe(1);
  });

  it('stays cancelled when a finally returns a value', async () => {
    const s = new Scheduler();
    const task = s.spawn(function* () {
      try {
        for (;;) yield;
      } finally {
        // eslint-disable-next-line no-unsafe-finally -- the behaviour under test
        return 'overridden';
      }
    });
    await macrotask();
    task.cancel();
    expect(task.status).toBe('cancelled');
    expect(isAbortError(await rejectionOf(task))).toBe(true);
  });

  it('lets a generator cleanup that yields finish in later slices before the task settles', async () => {
    const s = new Scheduler({ sliceYields: 3, sliceMs: 10_000 });
    const log: number[] = [];
    const task = s.spawn(function* () {
      try {
        for (;;) yield;
      } finally {
        for (let i = 0; i < 10; i++) {
          log.push(i);
          yield;
        }
      }
    });
    await macrotask();
    task.cancel();
    expect(task.status).toBe('running');
    await rejectionOf(task);
    expect(log).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(task.status).toBe('cancelled');
  });

  it('cancels an async task parked in ctx.yield(): it settles at once and its await rejects', async () => {
    const s = new Scheduler({ sliceYields: 2, sliceMs: 10_000 });
    const log: string[] = [];
    const task = s.spawn(async (ctx) => {
      try {
        for (;;) await ctx.yield();
      } catch (error) {
        log.push(`caught ${isAbortError(error) ? 'AbortError' : String(error)}`);
        throw error;
      } finally {
        log.push('finally');
      }
    });
    await macrotask();
    expect(task.status).toBe('running');
    task.cancel();
    expect(task.status).toBe('cancelled');
    expect(isAbortError(await rejectionOf(task))).toBe(true);
    await flush();
    expect(log).toEqual(['caught AbortError', 'finally']);
  });

  it('cancels an async task awaiting something else: settles at once, ctx.signal aborts, ctx.yield() rejects', async () => {
    const s = new Scheduler();
    const gate = deferred();
    const log: string[] = [];
    const task = s.spawn(async (ctx) => {
      ctx.signal.addEventListener('abort', () => log.push('abort event'));
      await gate.promise;
      log.push(`resumed, aborted=${String(ctx.signal.aborted)}, shouldYield=${String(ctx.shouldYield())}`);
      await ctx.yield();
      log.push('never');
      return 'ignored';
    });
    await macrotask();
    task.cancel();
    expect(task.status).toBe('cancelled');
    expect(log).toEqual(['abort event']);
    gate.resolve();
    await flush();
    expect(log).toEqual(['abort event', 'resumed, aborted=true, shouldYield=true']);
    expect(isAbortError(await rejectionOf(task))).toBe(true);
  });

  it('closes a suspended async generator, and settles once its cleanup has run', async () => {
    const s = new Scheduler({ sliceYields: 2, sliceMs: 10_000 });
    const log: string[] = [];
    const task = s.spawn(async function* () {
      try {
        for (;;) yield;
      } finally {
        await Promise.resolve();
        log.push('async cleanup');
      }
    });
    await macrotask();
    await flush();
    task.cancel();
    expect(isAbortError(await rejectionOf(task))).toBe(true);
    expect(log).toEqual(['async cleanup']);
    expect(task.status).toBe('cancelled');
  });

  it('settles an async generator cancelled mid-step at once and closes it when the step returns', async () => {
    const s = new Scheduler();
    const gate = deferred();
    const log: string[] = [];
    const task = s.spawn(async function* () {
      try {
        await gate.promise;
        yield;
        log.push('never');
      } finally {
        log.push('finally');
      }
    });
    await macrotask();
    task.cancel();
    expect(task.status).toBe('cancelled');
    gate.resolve();
    await flush();
    expect(log).toEqual(['finally']);
    await rejectionOf(task);
  });

  it('an abort listener that cancels other tasks or spawns does not break the scheduler', async () => {
    const s = new Scheduler();
    const other = s.spawn(() => 'other');
    const task = s.spawn(() => 'task');
    let late: Task<string> | undefined;
    task.signal.addEventListener('abort', () => {
      other.cancel();
      task.cancel(); // re-entrant: ignored
      late = s.spawn(() => 'late');
    });
    task.cancel();
    expect([task.status, other.status]).toEqual(['cancelled', 'cancelled']);
    expect(await late).toBe('late');
  });

  it('leaves no trace: cancelled tasks are gone from the queues and the live set', async () => {
    const s = new Scheduler();
    const tasks = Array.from({ length: 1000 }, (_, i) =>
      s.spawn(() => i, { priority: i % 2 ? 'low' : 'high' }),
    );
    for (const task of tasks) if (tasks.indexOf(task) % 3 !== 0) task.cancel();
    expect(s.stats.queued).toBe(334);
    const results = await Promise.allSettled(tasks);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(334);
    expect(s.stats).toMatchObject({ active: 0, queued: 0, completed: 334, cancelled: 666 });
  });
});

describe('the signal option', () => {
  it('cancels the task with signal.reason when it aborts', async () => {
    const s = new Scheduler();
    const controller = new AbortController();
    const task = s.spawn(
      function* () {
        for (;;) yield;
      },
      { signal: controller.signal },
    );
    await macrotask();
    const reason = new Error('stop');
    controller.abort(reason);
    expect(task.status).toBe('cancelled');
    expect(await rejectionOf(task)).toBe(reason);
    expect(task.signal.reason).toBe(reason);
  });

  it('an already-aborted signal gives a task cancelled at once that never runs', async () => {
    const s = new Scheduler();
    let ran = false;
    const task = s.spawn(
      () => {
        ran = true;
      },
      { signal: AbortSignal.abort('gone') },
    );
    expect(task.status).toBe('cancelled');
    expect(await rejectionOf(task)).toBe('gone');
    await macrotask();
    expect(ran).toBe(false);
  });

  it('removes its listener once the task settles', async () => {
    const s = new Scheduler();
    const controller = new AbortController();
    const add = vi.spyOn(controller.signal, 'addEventListener');
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    await s.spawn(() => 1, { signal: controller.signal });
    expect(add).toHaveBeenCalledTimes(1);
    expect(remove).toHaveBeenCalledTimes(1);
    expect(remove.mock.calls[0]![1]).toBe(add.mock.calls[0]![1]);
  });
});

describe('the timeout option', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('cancels the task with a TimeoutError after the timeout (counted from spawn)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = new Scheduler();
    const log: string[] = [];
    const task = s.spawn(
      function* () {
        try {
          for (;;) yield;
        } finally {
          log.push('finally');
        }
      },
      { timeout: 50, name: 'spin' },
    );
    await vi.advanceTimersByTimeAsync(49);
    expect(task.status).toBe('running');
    await vi.advanceTimersByTimeAsync(1);
    expect(task.status).toBe('cancelled');
    const error = (await rejectionOf(task)) as DOMException;
    expect(error).toBeInstanceOf(DOMException);
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toBe('Task "spin" timed out after 50 ms');
    expect(log).toEqual(['finally']);
  });

  it('clears the timer when the task finishes first', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = new Scheduler();
    const task = s.spawn(() => 'quick', { timeout: 1000 });
    expect(vi.getTimerCount()).toBe(1);
    expect(await task).toBe('quick');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('timeout 0 cancels the task at once (a task never completes synchronously)', async () => {
    const s = new Scheduler();
    const task = s.spawn(() => 1, { timeout: 0 });
    expect(task.status).toBe('cancelled');
    expect(((await rejectionOf(task)) as DOMException).name).toBe('TimeoutError');
  });

  it('timeout Infinity arms no timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = new Scheduler();
    const task = s.spawn(() => 1, { timeout: Infinity });
    expect(vi.getTimerCount()).toBe(0);
    expect(await task).toBe(1);
  });
});
