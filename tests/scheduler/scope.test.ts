import { afterEach, describe, expect, it, vi } from 'vitest';
import { ClosedError } from '../../src/errors.js';
import { Scheduler, scope, sleep, type Task } from '../../src/scheduler/index.js';
import { expectPending, flush, rejectionOf } from '../helpers.js';
import { deferred, macrotask } from './helpers.js';

describe('scope', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves with the body value once the body and every child have settled', async () => {
    const log: string[] = [];
    const gate = deferred();
    const result = scope(async (s) => {
      s.spawn(async () => {
        await gate.promise;
        log.push('slow child');
      });
      s.spawn(() => log.push('quick child'));
      return 'value';
    });
    await macrotask();
    await expectPending(result);
    gate.resolve();
    expect(await result).toBe('value');
    expect(log).toEqual(['quick child', 'slow child']);
  });

  it('accepts a synchronous body', async () => {
    let ran = false;
    await expect(
      scope((s) => {
        s.spawn(() => {
          ran = true;
        });
        return 3;
      }),
    ).resolves.toBe(3);
    expect(ran).toBe(true);
  });

  it('waits for children spawned by children through the scope', async () => {
    const log: string[] = [];
    await scope(async ({ spawn }) => {
      spawn(async () => {
        await sleep(5);
        spawn(async () => {
          await sleep(5);
          log.push('grandchild');
        });
        log.push('child');
      });
    });
    expect(log).toEqual(['child', 'grandchild']);
  });

  it('the first child failure cancels the siblings and the body signal, and is rethrown', async () => {
    const boom = new Error('boom');
    const log: string[] = [];
    let bodySignal: AbortSignal | undefined;
    let sibling: Task<void> | undefined;
    const error = await rejectionOf(
      scope(async (s) => {
        bodySignal = s.signal;
        sibling = s.spawn(function* () {
          try {
            for (;;) yield;
          } finally {
            log.push('sibling cleaned up');
          }
        });
        s.spawn(async () => {
          await sleep(2);
          throw boom;
        });
        await new Promise((resolve) => s.signal.addEventListener('abort', resolve));
        log.push('body saw abort');
      }),
    );
    expect(error).toBe(boom);
    expect(bodySignal?.aborted).toBe(true);
    expect(sibling?.status).toBe('cancelled');
    expect(log).toEqual(['sibling cleaned up', 'body saw abort']);
  });

  it('a body that awaits a cancelled sibling does not count as a second failure', async () => {
    const boom = new Error('boom');
    const error = await rejectionOf(
      scope(async (s) => {
        const slow = s.spawn(async (ctx) => {
          for (;;) await ctx.yield();
        });
        s.spawn(() => {
          throw boom;
        });
        await slow; // rejects with the scope's cancellation reason
      }),
    );
    expect(error).toBe(boom);
  });

  it('a body that rethrows a failed child error counts it once', async () => {
    const boom = new Error('boom');
    const error = await rejectionOf(
      scope(async (s) => {
        await s.spawn(() => {
          throw boom;
        });
      }),
    );
    expect(error).toBe(boom);
  });

  it('two or more failures reject with an AggregateError of all of them', async () => {
    const a = new Error('a');
    const b = new Error('b');
    const error = await rejectionOf(
      scope(async (s) => {
        s.spawn(async () => {
          await sleep(2); // the generator below is running by then
          throw a;
        });
        s.spawn(function* () {
          try {
            for (;;) yield;
          } finally {
            // eslint-disable-next-line no-unsafe-finally -- a cleanup that fails is a failure too
            throw b;
          }
        });
      }),
    );
    expect(error).toBeInstanceOf(AggregateError);
    expect((error as AggregateError).errors).toEqual([a, b]);
    expect((error as AggregateError).message).toBe('scope: 2 tasks failed');
  });

  it('a failing body cancels the children and is rethrown', async () => {
    const boom = new Error('body');
    let child: Task<void> | undefined;
    const error = await rejectionOf(
      scope(async (s) => {
        child = s.spawn(async (ctx) => {
          for (;;) await ctx.yield();
        });
        await macrotask();
        throw boom;
      }),
    );
    expect(error).toBe(boom);
    expect(child?.status).toBe('cancelled');
  });

  it('a body that throws synchronously rejects (never throws)', async () => {
    const boom = new Error('sync');
    const result = scope(() => {
      throw boom;
    });
    expect(await rejectionOf(result)).toBe(boom);
  });

  it('a child cancelled on its own (its own timeout) is not a failure of the scope', async () => {
    const value = await scope(async (s) => {
      const child = s.spawn(async () => new Promise<never>(() => {}), { timeout: 5 });
      const error = await rejectionOf(child);
      return (error as DOMException).name;
    });
    expect(value).toBe('TimeoutError');
  });

  it('aborting opts.signal cancels s.signal and every child, and rejects with the reason', async () => {
    const controller = new AbortController();
    const children: Task<void>[] = [];
    let bodySignal: AbortSignal | undefined;
    const result = scope(
      async (s) => {
        bodySignal = s.signal;
        children.push(
          s.spawn(
            async (ctx) =>
              new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve())),
          ),
        );
        children.push(
          s.spawn(function* () {
            for (;;) yield;
          }),
        );
        await new Promise((resolve) => s.signal.addEventListener('abort', resolve));
      },
      { signal: controller.signal },
    );
    await macrotask();
    const reason = new Error('user left');
    controller.abort(reason);
    expect(await rejectionOf(result)).toBe(reason);
    expect(bodySignal?.reason).toBe(reason);
    expect(children.map((c) => c.status)).toEqual(['cancelled', 'cancelled']);
  });

  it('an already-aborted signal rejects at once without running the body', async () => {
    let ran = false;
    const result = scope(
      async () => {
        ran = true;
      },
      { signal: AbortSignal.abort('early') },
    );
    expect(await rejectionOf(result)).toBe('early');
    expect(ran).toBe(false);
  });

  it('times out with a TimeoutError and cancels the children', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let child: Task<void> | undefined;
    const result = scope(
      async (s) => {
        child = s.spawn(function* () {
          for (;;) yield;
        });
      },
      { timeout: 100 },
    );
    result.catch(() => {});
    await vi.advanceTimersByTimeAsync(99);
    expect(child?.status).toBe('running');
    await vi.advanceTimersByTimeAsync(1);
    const error = (await rejectionOf(result)) as DOMException;
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toBe('scope timed out after 100 ms');
    expect(child?.status).toBe('cancelled');
  });

  it('clears its timer and listener when it finishes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const controller = new AbortController();
    const remove = vi.spyOn(controller.signal, 'removeEventListener');
    await scope(async (s) => s.spawn(() => 1), { timeout: 1000, signal: controller.signal });
    expect(vi.getTimerCount()).toBe(0);
    expect(remove).toHaveBeenCalledTimes(1);
  });

  it('a task spawned into a cancelled scope is cancelled at once; after the scope finished, with a ClosedError', async () => {
    let late: ((fn: () => number) => Task<number>) | undefined;
    let spawnedWhileCancelling: Task<number> | undefined;
    await rejectionOf(
      scope(async (s) => {
        late = (fn) => s.spawn(fn);
        s.spawn(() => {
          throw new Error('x');
        });
        await new Promise((resolve) => s.signal.addEventListener('abort', resolve));
        spawnedWhileCancelling = s.spawn(() => 1);
      }),
    );
    expect(spawnedWhileCancelling?.status).toBe('cancelled');
    const afterwards = late!(() => 2);
    expect(afterwards.status).toBe('cancelled');
    expect(await rejectionOf(afterwards)).toBeInstanceOf(ClosedError);
  });

  it('runs children on the scheduler given, with their own priorities', async () => {
    const scheduler = new Scheduler();
    const order: string[] = [];
    await scope(
      async (s) => {
        s.spawn(() => order.push('low'), { priority: 'low' });
        s.spawn(() => order.push('high'), { priority: 'high' });
      },
      { scheduler },
    );
    expect(order).toEqual(['high', 'low']);
    expect(scheduler.stats.completed).toBe(2);
  });

  it.each([
    [[42], TypeError, 'scope: body must be a function, got 42'],
    [[async () => {}, 'x'], TypeError, 'scope: options must be an object, got "x"'],
    [
      [async () => {}, { timeout: -1 }],
      RangeError,
      'scope: timeout must be a non-negative number of milliseconds, got -1',
    ],
    [[async () => {}, { signal: 1 }], TypeError, 'scope: signal must be an AbortSignal, got 1'],
    [[async () => {}, { scheduler: {} }], TypeError, 'scope: scheduler must be a Scheduler, got an object'],
  ])('rejects bad arguments %o', async (args, type, message) => {
    const result = (scope as (...a: unknown[]) => Promise<unknown>)(...args);
    const error = await rejectionOf(result);
    expect(error).toBeInstanceOf(type);
    expect((error as Error).message).toBe(message);
  });

  it('s.spawn validates like Scheduler.spawn (throws)', async () => {
    await scope(async (s) => {
      expect(() => s.spawn(1 as never)).toThrow('Scope.spawn: task must be a function, got 1');
    });
  });

  it('leaves nothing behind in the scheduler', async () => {
    const scheduler = new Scheduler();
    await rejectionOf(
      scope(
        async (s) => {
          for (let i = 0; i < 50; i++) {
            s.spawn(function* () {
              for (;;) yield;
            });
          }
          s.spawn(() => {
            throw new Error('x');
          });
        },
        { scheduler },
      ),
    );
    await flush();
    expect(scheduler.stats).toMatchObject({ active: 0, queued: 0, failed: 1, cancelled: 50 });
  });
});
