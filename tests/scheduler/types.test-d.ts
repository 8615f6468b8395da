import { describe, expectTypeOf, it } from 'vitest';
import {
  Scheduler,
  scope,
  sleep,
  yieldNow,
  type Scope,
  type SchedulerStats,
  type Task,
  type TaskContext,
  type TaskFn,
  type TaskStatus,
} from '../../src/scheduler/index.js';
import * as root from '../../src/index.js';

const s = new Scheduler();

describe('Task<T> inference', () => {
  it('from a generator function', () => {
    expectTypeOf(
      s.spawn(function* () {
        yield;
        return 42;
      }),
    ).toEqualTypeOf<Task<number>>();
    expectTypeOf(
      s.spawn(function* () {
        yield;
      }),
    ).toEqualTypeOf<Task<void>>();
  });

  it('from an async generator function', () => {
    expectTypeOf(
      s.spawn(async function* () {
        yield;
        return 'x';
      }),
    ).toEqualTypeOf<Task<string>>();
  });

  it('from an async function', () => {
    expectTypeOf(s.spawn(async () => ({ ok: true }))).toEqualTypeOf<Task<{ ok: boolean }>>();
    expectTypeOf(s.spawn(async (ctx) => ctx.signal.aborted)).toEqualTypeOf<Task<boolean>>();
  });

  it('from a plain function', () => {
    expectTypeOf(s.spawn(() => 1n)).toEqualTypeOf<Task<bigint>>();
    expectTypeOf(s.spawn(() => [1, 2])).toEqualTypeOf<Task<number[]>>();
  });

  it('from a function returning a generator object', () => {
    function* count(): Generator<undefined, number> {
      yield;
      return 1;
    }
    expectTypeOf(s.spawn(() => count())).toEqualTypeOf<Task<number>>();
  });

  it('awaiting a task gives T', async () => {
    const value = await s.spawn(function* () {
      yield;
      return 'done' as const;
    });
    expectTypeOf(value).toEqualTypeOf<'done'>();
  });

  it('a Task is PromiseLike and has cancel, status, signal, name, priority', () => {
    const task = s.spawn(() => 1);
    expectTypeOf(task).toMatchTypeOf<PromiseLike<number>>();
    expectTypeOf(task).toHaveProperty('cancel').toEqualTypeOf<(reason?: unknown) => void>();
    expectTypeOf(task.status).toEqualTypeOf<TaskStatus>();
    expectTypeOf(task.signal).toEqualTypeOf<AbortSignal>();
    expectTypeOf(task.name).toEqualTypeOf<string | undefined>();
    expectTypeOf(task.priority).toEqualTypeOf<'high' | 'normal' | 'low'>();
  });
});

describe('signatures', () => {
  it('spawn options are checked', () => {
    // @ts-expect-error: not a priority
    s.spawn(() => 1, { priority: 'urgent' });
    // @ts-expect-error: timeout is a number
    s.spawn(() => 1, { timeout: '5' });
    s.spawn(() => 1, { priority: 'low', timeout: 5, signal: new AbortController().signal, name: 'n' });
  });

  it('the context', () => {
    s.spawn((ctx) => {
      expectTypeOf(ctx).toEqualTypeOf<TaskContext>();
      expectTypeOf(ctx.yield()).toEqualTypeOf<Promise<void>>();
      expectTypeOf(ctx.shouldYield()).toEqualTypeOf<boolean>();
      expectTypeOf(ctx.spawn).toEqualTypeOf<Scheduler['spawn']>();
      expectTypeOf(ctx.spawn(() => 'child')).toEqualTypeOf<Task<string>>();
    });
  });

  it('TaskFn<T> accepts every task shape', () => {
    expectTypeOf(function* () {
      yield;
      return 1;
    }).toMatchTypeOf<TaskFn<number>>();
    expectTypeOf(async () => 1).toMatchTypeOf<TaskFn<number>>();
    expectTypeOf(() => 1).toMatchTypeOf<TaskFn<number>>();
  });

  it('scope infers the body value and hands out a Scope', () => {
    expectTypeOf(scope(async () => 1)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(scope(() => 'sync')).toEqualTypeOf<Promise<string>>();
    void scope(async (sc) => {
      expectTypeOf(sc).toEqualTypeOf<Scope>();
      expectTypeOf(sc.spawn(async () => true)).toEqualTypeOf<Task<boolean>>();
      expectTypeOf(sc.signal).toEqualTypeOf<AbortSignal>();
    });
  });

  it('yieldNow, sleep, stats, disposal', () => {
    expectTypeOf(yieldNow()).toEqualTypeOf<Promise<void>>();
    expectTypeOf(sleep(1, { signal: AbortSignal.timeout(1) })).toEqualTypeOf<Promise<void>>();
    expectTypeOf(s.stats).toEqualTypeOf<SchedulerStats>();
    expectTypeOf(s).toMatchTypeOf<AsyncDisposable>();
  });

  it('is re-exported from the root entry', () => {
    expectTypeOf(root.Scheduler).toEqualTypeOf<typeof Scheduler>();
    expectTypeOf(root.scope).toEqualTypeOf<typeof scope>();
  });
});
