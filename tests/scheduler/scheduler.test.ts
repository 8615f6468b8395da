import { describe, expect, it } from 'vitest';
import { ClosedError } from '../../src/errors.js';
import { Scheduler, type TaskContext, type TaskFn } from '../../src/scheduler/index.js';
import { flush, rejectionOf, stateOf } from '../helpers.js';
import { deferred, macrotask, macrotasks, outcome } from './helpers.js';

describe('Scheduler construction', () => {
  it('defaults sliceMs to 5', () => {
    expect(new Scheduler().sliceMs).toBe(5);
    expect(new Scheduler({}).sliceMs).toBe(5);
    expect(new Scheduler({ sliceMs: 0.5 }).sliceMs).toBe(0.5);
  });

  it.each([
    [{ sliceMs: 0 }, RangeError, 'Scheduler: sliceMs must be a positive finite number, got 0'],
    [{ sliceMs: -1 }, RangeError, 'Scheduler: sliceMs must be a positive finite number, got -1'],
    [{ sliceMs: NaN }, RangeError, 'Scheduler: sliceMs must be a positive finite number, got NaN'],
    [{ sliceMs: Infinity }, RangeError, 'Scheduler: sliceMs must be a positive finite number, got Infinity'],
    [{ sliceMs: '5' }, TypeError, 'Scheduler: sliceMs must be a positive number, got "5"'],
    [{ agingMs: 0 }, RangeError, 'Scheduler: agingMs must be a positive number, got 0'],
    [{ agingMs: null }, TypeError, 'Scheduler: agingMs must be a positive number, got null'],
    [{ sliceYields: 0 }, RangeError, 'Scheduler: sliceYields must be a positive integer, got 0'],
    [{ sliceYields: 1.5 }, RangeError, 'Scheduler: sliceYields must be a positive integer, got 1.5'],
    [{ sliceYields: '1' }, TypeError, 'Scheduler: sliceYields must be a positive integer, got "1"'],
    [42, TypeError, 'Scheduler: options must be an object, got 42'],
    [null, TypeError, 'Scheduler: options must be an object, got null'],
  ])('rejects %o', (opts, type, message) => {
    expect(() => new Scheduler(opts as never)).toThrow(type);
    expect(() => new Scheduler(opts as never)).toThrow(message);
  });

  it('accepts agingMs: Infinity (strict priorities)', () => {
    expect(() => new Scheduler({ agingMs: Infinity })).not.toThrow();
  });
});

describe('Scheduler.spawn validation', () => {
  const s = new Scheduler();
  it.each([
    [42, undefined, TypeError, 'Scheduler.spawn: task must be a function, got 42'],
    [undefined, undefined, TypeError, 'Scheduler.spawn: task must be a function, got undefined'],
    [
      () => 1,
      { priority: 'urgent' },
      TypeError,
      'Scheduler.spawn: priority must be "high", "normal" or "low", got "urgent"',
    ],
    [
      () => 1,
      { priority: 1 },
      TypeError,
      'Scheduler.spawn: priority must be "high", "normal" or "low", got 1',
    ],
    [
      () => 1,
      { timeout: -1 },
      RangeError,
      'Scheduler.spawn: timeout must be a non-negative number of milliseconds, got -1',
    ],
    [() => 1, { timeout: NaN }, RangeError, 'timeout must be a non-negative number of milliseconds, got NaN'],
    [
      () => 1,
      { timeout: '1' },
      TypeError,
      'Scheduler.spawn: timeout must be a non-negative number of milliseconds, got "1"',
    ],
    [() => 1, { signal: {} }, TypeError, 'Scheduler.spawn: signal must be an AbortSignal, got an object'],
    [() => 1, { name: 7 }, TypeError, 'Scheduler.spawn: name must be a string, got 7'],
    [() => 1, 'fast', TypeError, 'Scheduler.spawn: options must be an object, got "fast"'],
  ])('throws for task %o with options %o', (task, opts, type, message) => {
    expect(() => s.spawn(task as never, opts as never)).toThrow(type);
    expect(() => s.spawn(task as never, opts as never)).toThrow(message);
    expect(s.stats.spawned).toBe(0);
  });
});

describe('Scheduler.spawn', () => {
  it('never runs task code synchronously, nor in the same macrotask', async () => {
    const s = new Scheduler();
    let ran = false;
    const task = s.spawn(() => {
      ran = true;
    });
    expect(ran).toBe(false);
    expect(task.status).toBe('pending');
    await flush();
    expect(ran).toBe(false);
    await macrotask();
    expect(ran).toBe(true);
    expect(task.status).toBe('done');
  });

  it('runs a plain function and resolves with its value', async () => {
    const s = new Scheduler();
    await expect(s.spawn(() => 42)).resolves.toBe(42);
  });

  it('runs a generator function: bare yields are yield points, the return value is the result', async () => {
    const s = new Scheduler();
    const steps: number[] = [];
    const task = s.spawn(function* () {
      for (let i = 0; i < 5; i++) {
        steps.push(i);
        yield;
      }
      return 'done';
    });
    expect(await task).toBe('done');
    expect(steps).toEqual([0, 1, 2, 3, 4]);
  });

  it('runs an async function and passes it a context', async () => {
    const s = new Scheduler();
    let seen: TaskContext | undefined;
    const task = s.spawn(async (ctx) => {
      seen = ctx;
      let sum = 0;
      for (let i = 0; i < 100; i++) {
        sum += i;
        await ctx.yield();
      }
      return sum;
    });
    expect(await task).toBe(4950);
    expect(seen?.signal).toBe(task.signal);
    expect(typeof seen?.shouldYield()).toBe('boolean');
  });

  it('runs an async generator function: each yield is a yield point', async () => {
    const s = new Scheduler();
    const steps: number[] = [];
    const task = s.spawn(async function* () {
      for (let i = 0; i < 4; i++) {
        steps.push(i);
        await Promise.resolve();
        yield;
      }
      return 'agen';
    });
    expect(await task).toBe('agen');
    expect(steps).toEqual([0, 1, 2, 3]);
  });

  it('treats a returned generator object like a generator function', async () => {
    const s = new Scheduler();
    function* count(n: number): Generator<undefined, number> {
      for (let i = 0; i < n; i++) yield;
      return n;
    }
    await expect(s.spawn(() => count(3))).resolves.toBe(3);
  });

  it('awaits a promise a generator yields, and sends its value back in', async () => {
    const s = new Scheduler();
    const gate = deferred<string>();
    const task = s.spawn(function* () {
      const value = (yield gate.promise) as string;
      return value.toUpperCase();
    });
    await macrotasks(3);
    expect(task.status).toBe('running');
    gate.resolve('ok');
    await expect(task).resolves.toBe('OK');
  });

  it('throws a rejected yielded promise into the generator, which may catch it', async () => {
    const s = new Scheduler();
    const task = s.spawn(function* () {
      try {
        yield Promise.reject(new Error('nope'));
        return 'not reached';
      } catch (error) {
        return `caught ${(error as Error).message}`;
      }
    });
    await expect(task).resolves.toBe('caught nope');
  });

  it('treats a non-promise yielded value as a plain yield point', async () => {
    const s = new Scheduler();
    const task = s.spawn(function* () {
      const back: unknown = yield 5;
      return back;
    });
    await expect(task).resolves.toBeUndefined();
  });

  const throwers: [string, () => TaskFn<never>][] = [
    [
      'plain',
      () => (): never => {
        throw new Error('sync boom');
      },
    ],
    [
      'generator',
      () =>
        function* (): Generator<undefined, never> {
          yield;
          throw new Error('gen boom');
        },
    ],
    [
      'async',
      () => async (): Promise<never> => {
        await Promise.resolve();
        throw new Error('async boom');
      },
    ],
    [
      'async generator',
      () =>
        async function* (): AsyncGenerator<undefined, never> {
          yield;
          throw new Error('agen boom');
        },
    ],
  ];
  it.each(throwers)('a %s task that throws fails with the error', async (_kind, make) => {
    const s = new Scheduler();
    const task = s.spawn(make());
    const error = await rejectionOf(task);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/boom/);
    expect(task.status).toBe('failed');
    expect(s.stats.failed).toBe(1);
  });

  it('a failed task nobody awaits raises no unhandled rejection', async () => {
    const s = new Scheduler();
    const task = s.spawn(() => {
      throw new Error('ignored');
    });
    await macrotasks(2);
    expect(task.status).toBe('failed');
    // Awaiting it later still delivers the error.
    expect(((await rejectionOf(task)) as Error).message).toBe('ignored');
  });

  it('goes pending -> running -> done', async () => {
    const s = new Scheduler();
    const gate = deferred();
    const task = s.spawn(async () => {
      await gate.promise;
      return 1;
    });
    expect(task.status).toBe('pending');
    await macrotask();
    expect(task.status).toBe('running');
    gate.resolve();
    await task;
    expect(task.status).toBe('done');
  });

  it('exposes name and priority', () => {
    const s = new Scheduler();
    const a = s.spawn(() => 1, { name: 'a', priority: 'low' });
    const b = s.spawn(() => 1);
    expect([a.name, a.priority, b.name, b.priority]).toEqual(['a', 'low', undefined, 'normal']);
  });

  it('is awaitable more than once and via then()', async () => {
    const s = new Scheduler();
    const task = s.spawn(() => 'v');
    const [a, b] = await Promise.all([task, task.then((v) => v + '!')]);
    expect([a, b]).toEqual(['v', 'v!']);
    expect(await task).toBe('v');
  });

  it('ctx.spawn starts another task on the same scheduler (safe to destructure)', async () => {
    const s = new Scheduler();
    const result = await s.spawn(async ({ spawn }) => {
      const parts = [1, 2, 3].map((n) => spawn(() => n * n));
      return (await Promise.all(parts)).reduce((a, b) => a + b, 0);
    });
    expect(result).toBe(14);
    expect(s.stats.spawned).toBe(4);
  });

  it('a task spawned by a running task starts in a later slice, not in the middle of the spawner', async () => {
    const s = new Scheduler();
    const log: string[] = [];
    await s.spawn(function* (ctx) {
      const child = ctx.spawn(() => log.push('child'));
      log.push('parent-1');
      yield;
      log.push('parent-2');
      yield child;
      log.push('parent-3');
    });
    expect(log).toEqual(['parent-1', 'parent-2', 'child', 'parent-3']);
  });

  it('keeps going when one task function throws synchronously', async () => {
    const s = new Scheduler();
    const bad = s.spawn(() => {
      throw new Error('x');
    });
    const good = s.spawn(() => 'fine');
    expect(await outcome(bad)).toEqual({ ok: false, value: new Error('x') });
    expect(await good).toBe('fine');
  });
});

describe('slices', () => {
  it('hands control back to the event loop once a slice is spent (yield budget)', async () => {
    const s = new Scheduler({ sliceYields: 10, sliceMs: 10_000 });
    let steps = 0;
    const task = s.spawn(function* () {
      for (let i = 0; i < 100; i++) {
        steps++;
        yield;
      }
    });
    await macrotask();
    // One slice passes at most 10 yield points (the task start counts as one).
    expect(steps).toBeGreaterThan(0);
    expect(steps).toBeLessThanOrEqual(10);
    await task;
    expect(steps).toBe(100);
    expect(s.stats.slices).toBeGreaterThanOrEqual(10);
  });

  it('runs at least one step per slice, however small the budget', async () => {
    const s = new Scheduler({ sliceYields: 1, sliceMs: 0.001 });
    const tasks = [1, 2, 3].map((n) =>
      s.spawn(function* () {
        for (let i = 0; i < 5; i++) yield;
        return n;
      }),
    );
    expect(await Promise.all(tasks)).toEqual([1, 2, 3]);
  });

  it('hands control back once the time budget is spent', async () => {
    const s = new Scheduler({ sliceMs: 2 });
    const slicesSeen = new Set<number>();
    const start = performance.now();
    // Runs until it has seen 5 slices. A scheduler that never hands control back keeps it in one slice until the
    // 5 s bound; a loaded machine only makes each slice longer, never fewer than 5 of them.
    await s.spawn(function* () {
      while (slicesSeen.size < 5 && performance.now() - start < 5_000) {
        slicesSeen.add(s.stats.slices);
        yield;
      }
    });
    expect(slicesSeen.size).toBe(5);
  });

  it('ctx.shouldYield() turns true when the slice is spent', async () => {
    const s = new Scheduler({ sliceYields: 5, sliceMs: 10_000 });
    const checks: boolean[] = [];
    await s.spawn(async (ctx) => {
      for (let i = 0; i < 8; i++) checks.push(ctx.shouldYield());
    });
    expect(checks.indexOf(true)).toBeGreaterThan(0);
    expect(checks.slice(checks.indexOf(true)).every(Boolean)).toBe(true);
  });

  it('an async task parked at ctx.yield() resumes in a later slice', async () => {
    const s = new Scheduler({ sliceYields: 3, sliceMs: 10_000 });
    const slices: number[] = [];
    await s.spawn(async (ctx) => {
      for (let i = 0; i < 9; i++) {
        slices.push(s.stats.slices);
        await ctx.yield();
      }
    });
    expect(new Set(slices).size).toBeGreaterThanOrEqual(3);
    expect(slices).toEqual([...slices].sort((a, b) => a - b));
  });
});

describe('stats', () => {
  it('counts tasks by outcome, slices and yield points', async () => {
    const s = new Scheduler({ sliceMs: 1_000 });
    expect(s.stats).toMatchObject({ spawned: 0, active: 0, queued: 0, slices: 0, busyMs: 0, meanSliceMs: 0 });
    const done = s.spawn(function* () {
      for (let i = 0; i < 1000; i++) yield;
    });
    const failed = s.spawn(() => {
      throw new Error('x');
    });
    const cancelled = s.spawn(() => 1);
    cancelled.cancel();
    expect(s.stats).toMatchObject({ spawned: 3, active: 2, queued: 2, cancelled: 1 });
    await done;
    await rejectionOf(failed);
    const stats = s.stats;
    expect(stats).toMatchObject({ spawned: 3, completed: 1, failed: 1, cancelled: 1, active: 0, queued: 0 });
    expect(stats.slices).toBeGreaterThanOrEqual(1);
    expect(stats.yields).toBeGreaterThanOrEqual(1000);
    expect(stats.busyMs).toBeGreaterThanOrEqual(0);
    expect(stats.maxSliceMs).toBeGreaterThanOrEqual(stats.meanSliceMs);
    expect(stats.overruns).toBe(0);
  });

  it('reports an overrun when a task works too long between yield points', async () => {
    const s = new Scheduler({ sliceMs: 1 });
    await s.spawn(function* () {
      const start = performance.now();
      while (performance.now() - start < 10); // 10 ms without a yield point
      yield;
    });
    // At least that slice overran (on a loaded machine a descheduled slice may overrun too).
    expect(s.stats.overruns).toBeGreaterThanOrEqual(1);
    expect(s.stats.maxSliceMs).toBeGreaterThanOrEqual(10);
  });
});

describe('[Symbol.asyncDispose]', () => {
  it('cancels every unfinished task and resolves once all have settled', async () => {
    const s = new Scheduler();
    const cleaned: string[] = [];
    const gen = s.spawn(function* () {
      try {
        for (;;) yield;
      } finally {
        cleaned.push('gen');
      }
    });
    const pending = s.spawn(() => 'never', { priority: 'low', name: 'pending' });
    const gate = deferred();
    const asyncTask = s.spawn(
      async (ctx) => {
        await gate.promise;
        cleaned.push(`async sees aborted=${String(ctx.signal.aborted)}`);
      },
      { priority: 'high' },
    );
    await macrotask();
    expect([gen.status, pending.status, asyncTask.status]).toEqual(['running', 'pending', 'running']);
    await s[Symbol.asyncDispose]();
    expect([gen.status, pending.status, asyncTask.status]).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(cleaned).toEqual(['gen']);
    expect(((await rejectionOf(gen)) as DOMException).name).toBe('AbortError');
    gate.resolve();
    await flush();
    expect(cleaned).toEqual(['gen', 'async sees aborted=true']);
  });

  it('waits for generator cleanup that itself yields', async () => {
    const s = new Scheduler({ sliceYields: 2, sliceMs: 10_000 });
    const log: string[] = [];
    const task = s.spawn(function* () {
      try {
        for (;;) yield;
      } finally {
        for (let i = 0; i < 5; i++) {
          log.push(`cleanup ${i}`);
          yield;
        }
      }
    });
    await macrotask();
    const disposed = s[Symbol.asyncDispose]();
    expect(await stateOf(disposed)).toBe('pending');
    await disposed;
    expect(log).toHaveLength(5);
    expect(task.status).toBe('cancelled');
  });

  it('cancels tasks spawned afterwards with a ClosedError', async () => {
    const s = new Scheduler();
    await s[Symbol.asyncDispose]();
    let ran = false;
    const task = s.spawn(() => {
      ran = true;
    });
    expect(task.status).toBe('cancelled');
    expect(await rejectionOf(task)).toBeInstanceOf(ClosedError);
    await macrotask();
    expect(ran).toBe(false);
  });

  it('works with await using', async () => {
    let task: PromiseLike<unknown> | undefined;
    {
      await using s = new Scheduler();
      task = s.spawn(function* () {
        for (;;) yield;
      });
    }
    expect(((await rejectionOf(task)) as DOMException).name).toBe('AbortError');
  });
});
