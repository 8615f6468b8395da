import { describe, expectTypeOf, it } from 'vitest';
import type {
  PoolStats,
  TaskStream,
  WorkerApi,
  WorkerCrashedError,
  WorkerPool,
  WorkerPoolOptions,
} from 'weftjs/pool';
import { expose, transfer, type TaskContext } from 'weftjs/worker';
import type * as typed from '../fixtures/pool/typed-worker.js';

declare const pool: WorkerPool;

describe('typed proxy', () => {
  const api = pool.api<typeof typed>();

  it('maps plain and async functions to promises of their results', () => {
    expectTypeOf(api.square).parameters.toEqualTypeOf<[n: number]>();
    expectTypeOf(api.square(2)).toEqualTypeOf<Promise<number>>();
    expectTypeOf(api.greet).parameters.toEqualTypeOf<[name: string, punctuation?: string]>();
    expectTypeOf(api.greet('x')).toEqualTypeOf<Promise<string>>();
  });

  it('maps generator functions to async iterators of their values', () => {
    expectTypeOf(api.letters('ab')).toEqualTypeOf<TaskStream<string>>();
    expectTypeOf(api.evens(4)).toEqualTypeOf<TaskStream<number>>();
  });

  it('leaves out exports that are not functions, and rejects wrong arguments', () => {
    expectTypeOf(api).not.toHaveProperty('version');
    // @ts-expect-error -- a string is not a number
    void api.square('2');
    // @ts-expect-error -- no such function
    void api.cube(2);
  });

  it('is the WorkerApi of the module', () => {
    expectTypeOf(api).toEqualTypeOf<WorkerApi<typeof typed>>();
  });
});

describe('WorkerPool', () => {
  it('types run and stream results by their type argument', () => {
    expectTypeOf(pool.run('x')).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf(pool.run<number>('x', [1])).toEqualTypeOf<Promise<number>>();
    expectTypeOf(pool.stream<string>('x')).toEqualTypeOf<TaskStream<string>>();
    expectTypeOf(pool.stats).toEqualTypeOf<PoolStats>();
    expectTypeOf(pool.close()).toEqualTypeOf<Promise<void>>();
    expectTypeOf(pool).toMatchTypeOf<AsyncDisposable>();
  });

  it('takes a runtime, threads or processes, and reports the signal that killed a process', () => {
    expectTypeOf<WorkerPoolOptions['runtime']>().toEqualTypeOf<'thread' | 'process' | undefined>();
    // @ts-expect-error -- not a runtime
    const options: WorkerPoolOptions = { worker: '/w.js', runtime: 'fork' };
    void options;
    expectTypeOf<WorkerCrashedError['signal']>().toEqualTypeOf<string | undefined>();
  });
});

describe('expose', () => {
  it('gives exposed methods a TaskContext `this` and returns what it was given', () => {
    const fns = expose({
      wait(ms: number) {
        expectTypeOf(this).toEqualTypeOf<TaskContext>();
        expectTypeOf(this.signal).toEqualTypeOf<AbortSignal>();
        return ms;
      },
    });
    expectTypeOf(fns).toHaveProperty('wait').returns.toEqualTypeOf<number>();
    const bytes = new Uint8Array(1);
    expectTypeOf(transfer(bytes, [bytes.buffer])).toEqualTypeOf<typeof bytes>();
  });

  it('accepts only objects of functions', () => {
    // @ts-expect-error -- not a function
    expose({ value: 1 });
  });
});
