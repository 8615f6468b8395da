import { afterAll, describe, expect, it } from 'vitest';
import { PoolClosedError, QueueFullError, WorkerCrashedError, WorkerPool } from 'weftjs/pool';
import * as root from 'weftjs';
import type * as RootModule from 'weftjs';
import type * as PoolModule from 'weftjs/pool';
import type * as typed from '../fixtures/pool/typed-worker.js';
import { flush, rejectionOf } from '../helpers.js';
import { RUNTIMES } from './runtimes.js';

const fixture = (name: string): URL => new URL(`../fixtures/pool/${name}`, import.meta.url);

describe.each(RUNTIMES)('WorkerPool: running tasks (%s)', (runtime) => {
  const pool = new WorkerPool({ worker: fixture('worker.mjs'), maxThreads: 2, runtime });
  afterAll(() => pool.close());

  it('runs exposed functions with their arguments and resolves with the result', async () => {
    expect(await pool.run('echo', [{ a: [1, 2], b: new Map([[1, 'x']]) }])).toEqual({
      a: [1, 2],
      b: new Map([[1, 'x']]),
    });
    expect(await pool.run<number>('add', [2, 3])).toBe(5);
    expect(await pool.run('echo')).toBeUndefined();
    expect(await pool.run('sleep', [1, 'later'])).toBe('later');
  });

  it('keeps results in order for many small tasks submitted at once', async () => {
    const inputs = Array.from({ length: 3000 }, (_, i) => i);
    const results = await Promise.all(inputs.map((i) => pool.run<number>('add', [i, 1])));
    expect(results).toEqual(inputs.map((i) => i + 1));
  });

  it('rejects with the worker error, keeping its class, message, code and cause', async () => {
    const error = (await rejectionOf(pool.run('fail', ['boom']))) as TypeError & { code: string };
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('boom');
    expect(error.code).toBe('E_FIXTURE');
    expect(error.stack).toContain('worker.mjs');
    const asyncError = (await rejectionOf(pool.run('failAsync', ['later']))) as RangeError;
    expect(asyncError).toBeInstanceOf(RangeError);
    expect((asyncError.cause as Error).message).toBe('inner');
    expect(await rejectionOf(pool.run('throwString'))).toBe('plain string');
  });

  it('rejects an unknown function name listing the exposed ones, and stays usable', async () => {
    const error = (await rejectionOf(pool.run('nope', [1]))) as RangeError;
    expect(error).toBeInstanceOf(RangeError);
    expect(error.message).toMatch(/no function named "nope"/);
    expect(error.message).toMatch(/echo, add, /);
    expect(await pool.run('echo', [1])).toBe(1);
  });

  it('rejects arguments that cannot be cloned, failing only that task', async () => {
    const good = pool.run('echo', [1]);
    const bad = pool.run('echo', [() => 1]);
    const alsoGood = pool.run('echo', [2]);
    const error = (await rejectionOf(bad)) as Error;
    if (runtime === 'thread') expect(error.name).toBe('DataCloneError');
    else expect(error).toBeInstanceOf(TypeError);
    expect(await good).toBe(1);
    expect(await alsoGood).toBe(2);
  });

  it('rejects a result that cannot be cloned with a clear DataCloneError', async () => {
    const error = (await rejectionOf(pool.run('returnFunction'))) as DOMException;
    expect(error.name).toBe('DataCloneError');
    expect(error.message).toMatch(/result of returnFunction could not be cloned/);
    const thrown = (await rejectionOf(pool.run('returnError'))) as Error;
    expect(thrown.message).toBe('with a function inside');
    expect(await pool.run('echo', ['still fine'])).toBe('still fine');
  });

  it('transfers listed buffers both ways (a child process copies them)', async () => {
    const input = new Uint8Array(1024);
    expect(await pool.run('byteLength', [input.buffer], { transfer: [input.buffer] })).toBe(1024);
    expect(input.byteLength).toBe(runtime === 'thread' ? 0 : 1024); // moved between threads
    const output = await pool.run<Uint8Array>('bytes', [16]);
    expect(output).toBeInstanceOf(Uint8Array);
    expect([...output]).toEqual(new Array(16).fill(7));
  });

  it('rejects a generator called with run, pointing at stream', async () => {
    const error = (await rejectionOf(pool.run('count', [3]))) as TypeError;
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/pool\.stream\('count'/);
  });

  it('rejects bad arguments without throwing synchronously', async () => {
    const calls: [string, () => Promise<unknown>, RegExp][] = [
      ['name', () => pool.run(42 as unknown as string), /name must be a string, got 42/],
      ['args', () => pool.run('echo', 'x' as unknown as unknown[]), /args must be an array, got "x"/],
      ['options', () => pool.run('echo', [], 5 as never), /options must be an object, got 5/],
      [
        'timeout',
        () => pool.run('echo', [], { timeout: -1 }),
        /timeout must be a non-negative number.*got -1/,
      ],
      ['signal', () => pool.run('echo', [], { signal: {} as AbortSignal }), /signal must be an AbortSignal/],
      ['transfer', () => pool.run('echo', [], { transfer: 1 as never }), /transfer must be an array, got 1/],
    ];
    for (const [, call, message] of calls) {
      let promise: Promise<unknown> | undefined;
      expect(() => (promise = call())).not.toThrow();
      const error = (await rejectionOf(promise!)) as Error;
      expect(error.message).toMatch(message);
      expect(error).toBeInstanceOf(message.source.includes('-1') ? RangeError : TypeError);
    }
  });

  it('exposes the error classes once, shared with the root entry', () => {
    expect(PoolClosedError).toBe(root.PoolClosedError);
    expect(QueueFullError).toBe(root.QueueFullError);
    expect(WorkerCrashedError).toBe(root.WorkerCrashedError);
    expect(root.WorkerPool).toBe(WorkerPool);
  });

  it('counts completed and failed tasks and reports timings', async () => {
    const before = pool.stats;
    await pool.run('spin', [5, 1]);
    await rejectionOf(pool.run('fail', ['x']));
    const after = pool.stats;
    expect(after.completed - before.completed).toBe(1);
    expect(after.failed - before.failed).toBe(1);
    expect(after.runTime.p99).toBeGreaterThan(0);
    expect(after.runTime.mean).toBeGreaterThan(0);
    expect(after.waitTime.p50).toBeGreaterThanOrEqual(0);
    expect(after.utilization).toBeGreaterThan(0);
    expect(after.utilization).toBeLessThanOrEqual(1);
    expect(after.threads).toBeGreaterThanOrEqual(1);
    expect(after.threads).toBeLessThanOrEqual(2);
    expect(after.busy).toBe(0);
    expect(after.queued).toBe(0);
  });
});

describe.each(RUNTIMES)('WorkerPool: worker files (%s)', (runtime) => {
  it('accepts a CommonJS worker given as an absolute path', async () => {
    const { fileURLToPath } = await import('node:url');
    await using pool = new WorkerPool({
      worker: fileURLToPath(fixture('worker.cjs')),
      maxThreads: 1,
      runtime,
    });
    expect(await pool.run('kind')).toBe('cjs');
    expect(await pool.run('echo', ['x'])).toBe('x');
  });

  it('accepts a file: URL string', async () => {
    await using pool = new WorkerPool({ worker: fixture('worker.cjs').href, maxThreads: 1, runtime });
    expect(await pool.run('echo', [3])).toBe(3);
  });

  it('runs a TypeScript worker loaded through tsx', async () => {
    await using pool = new WorkerPool({ worker: fixture('typed-bootstrap.mjs'), maxThreads: 1, runtime });
    expect(await pool.run('square', [7])).toBe(49);
    expect(await pool.run('greet', ['ts'])).toBe('hello ts!');
  });

  it('passes execArgv and env to the workers', async () => {
    await using pool = new WorkerPool({
      worker: fixture('worker.mjs'),
      maxThreads: 1,
      execArgv: ['--trace-warnings'],
      env: { WEFT_FIXTURE: 'from the pool' },
      runtime,
    });
    expect(await pool.run('execArgv')).toEqual(['--trace-warnings']);
    expect(await pool.run('env', ['WEFT_FIXTURE'])).toBe('from the pool');
  });

  it('validates its options, naming the option and the value', () => {
    const worker = fixture('worker.mjs');
    expect(() => new WorkerPool({ worker, runtime: 'fork' as never })).toThrow(
      /runtime must be "thread" or "process", got "fork"/,
    );
    expect(() => new WorkerPool({ worker, runtime: 1 as never })).toThrow(TypeError);
    expect(() => new WorkerPool(undefined as never)).toThrow(TypeError);
    expect(() => new WorkerPool({ worker: './relative.mjs' })).toThrow(
      /worker must be an absolute path.*got "\.\/relative\.mjs"/,
    );
    expect(() => new WorkerPool({ worker: 42 as never })).toThrow(TypeError);
    expect(() => new WorkerPool({ worker, maxThreads: 0 })).toThrow(
      /maxThreads must be a positive integer, got 0/,
    );
    expect(() => new WorkerPool({ worker, maxThreads: 1.5 })).toThrow(RangeError);
    expect(() => new WorkerPool({ worker, minThreads: -1 })).toThrow(
      /minThreads must be a non-negative integer, got -1/,
    );
    expect(() => new WorkerPool({ worker, minThreads: 3, maxThreads: 2 })).toThrow(
      /minThreads must not exceed maxThreads/,
    );
    expect(() => new WorkerPool({ worker, idleTimeout: -5 })).toThrow(
      /idleTimeout must be a non-negative number.*got -5/,
    );
    expect(() => new WorkerPool({ worker, taskTimeout: '1' as never })).toThrow(TypeError);
    expect(() => new WorkerPool({ worker, maxQueue: 1.5 })).toThrow(RangeError);
    expect(() => new WorkerPool({ worker, abortGrace: NaN })).toThrow(
      /abortGrace must be a non-negative number.*got NaN/,
    );
    expect(() => new WorkerPool({ worker, execArgv: [1] as never })).toThrow(
      /execArgv must be an array of strings/,
    );
  });
});

describe.each(RUNTIMES)('WorkerPool: limits and closing (%s)', (runtime) => {
  it('rejects QueueFullError beyond maxThreads + maxQueue accepted tasks', async () => {
    const pool = new WorkerPool({ worker: fixture('worker.mjs'), maxThreads: 1, maxQueue: 2, runtime });
    const accepted = [pool.run('sleep', [30, 1]), pool.run('echo', [2]), pool.run('echo', [3])];
    const refused = pool.run('echo', [4]);
    expect(await rejectionOf(refused)).toBeInstanceOf(QueueFullError);
    expect(await Promise.all(accepted)).toEqual([1, 2, 3]);
    expect(await pool.run('echo', [5])).toBe(5);
    const stats = pool.stats;
    expect(stats.failed).toBe(0); // a refused task was never accepted
    await pool.close();
  });

  it('close() lets queued and running tasks finish, then rejects new ones', async () => {
    const pool = new WorkerPool({ worker: fixture('worker.mjs'), maxThreads: 1, runtime });
    const running = pool.run('sleep', [20, 'a']);
    const queued = pool.run('echo', ['b']);
    const closed = pool.close();
    expect(await rejectionOf(pool.run('echo', [1]))).toBeInstanceOf(PoolClosedError);
    expect(await running).toBe('a');
    expect(await queued).toBe('b');
    await closed;
    expect(pool.stats.threads).toBe(0);
    expect(pool.close()).toBe(closed);
  });

  it('close({ force: true }) rejects queued and running tasks with PoolClosedError', async () => {
    const pool = new WorkerPool({ worker: fixture('worker.mjs'), maxThreads: 1, runtime });
    await pool.run('echo', [0]);
    const running = rejectionOf(pool.run('stubborn', [10_000]));
    const queued = rejectionOf(pool.run('echo', [1]));
    await new Promise((resolve) => setTimeout(resolve, 20));
    await pool.close({ force: true });
    expect(await running).toBeInstanceOf(PoolClosedError);
    expect(await queued).toBeInstanceOf(PoolClosedError);
    expect(pool.stats).toMatchObject({ threads: 0, failed: 2, crashed: 0 });
  });

  it('a graceful close can be forced later', async () => {
    const pool = new WorkerPool({ worker: fixture('worker.mjs'), maxThreads: 1, runtime });
    const running = rejectionOf(pool.run('stubborn', [10_000]));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const graceful = pool.close();
    const forced = pool.close({ force: true });
    await Promise.all([graceful, forced]);
    expect(await running).toBeInstanceOf(PoolClosedError);
  });

  it('is async-disposable', async () => {
    let leaked: WorkerPool | undefined;
    {
      await using pool = new WorkerPool({ worker: fixture('worker.mjs'), maxThreads: 1, runtime });
      leaked = pool;
      expect(await pool.run('echo', [1])).toBe(1);
    }
    expect(await rejectionOf(leaked.run('echo', [1]))).toBeInstanceOf(PoolClosedError);
    expect(leaked.stats.threads).toBe(0);
  });

  it('starts minThreads at once and retires idle threads above it after idleTimeout', async () => {
    const pool = new WorkerPool({
      worker: fixture('worker.mjs'),
      minThreads: 1,
      maxThreads: 2,
      idleTimeout: 50,
      runtime,
    });
    expect(pool.stats.threads).toBe(1);
    const tasks = Promise.all([pool.run('sleep', [30]), pool.run('sleep', [30])]);
    await flush();
    // A second worker starts for the second task (on a loaded machine the first may run both before it is up).
    expect(pool.stats.threads).toBe(2);
    await tasks;
    for (let i = 0; i < 300 && pool.stats.threads > 1; i++)
      await new Promise((resolve) => setTimeout(resolve, 10));
    expect(pool.stats.threads).toBe(1);
    await pool.close();
  });
});

describe.each(RUNTIMES)('WorkerPool.api (%s)', (runtime) => {
  it('calls functions by name with checked types, streaming generators', async () => {
    await using pool = new WorkerPool({ worker: fixture('typed-bootstrap.mjs'), maxThreads: 1, runtime });
    const api = pool.api<typeof typed>();
    // Before any worker reported its functions, and after.
    const letters: string[] = [];
    for await (const letter of api.letters('abc')) letters.push(letter);
    expect(letters).toEqual(['a', 'b', 'c']);
    expect(await api.square(9)).toBe(81);
    expect(await api.greet('you', '?')).toBe('hello you?');
    const evens: number[] = [];
    for await (const n of api.evens(6)) evens.push(n);
    expect(evens).toEqual([0, 2, 4, 6]);
    expect(pool.api()).toBe(pool.api());
  });

  it('runs a call made before the first worker is ready', async () => {
    await using pool = new WorkerPool({ worker: fixture('typed-bootstrap.mjs'), maxThreads: 1, runtime });
    const api = pool.api<typeof typed>();
    expect(await api.square(3)).toBe(9);
  });

  it('applies its options to every call', async () => {
    await using pool = new WorkerPool({ worker: fixture('typed-bootstrap.mjs'), maxThreads: 1, runtime });
    const api = pool.api<typeof typed>({ signal: AbortSignal.abort(new Error('no')) });
    expect(((await rejectionOf(api.square(3))) as Error).message).toBe('no');
  });
});

describe.each(RUNTIMES)('WorkerPool: process lifetime (%s)', (runtime) => {
  it('idle workers do not keep the process alive when the pool is never closed', async () => {
    const { execFile } = await import('node:child_process');
    const { promisify } = await import('node:util');
    const { fileURLToPath } = await import('node:url');
    const script = fileURLToPath(fixture('forgotten-close.mjs'));
    const { stdout: output } = await promisify(execFile)(process.execPath, [script, runtime], {
      timeout: 15_000,
    });
    expect(output.trim()).toBe('done 3');
  });

  it('a proxy call waiting for the first worker rejects if the pool closes first', async () => {
    const pool = new WorkerPool({ worker: fixture('worker.mjs'), maxThreads: 1, runtime });
    const call = rejectionOf(pool.api<{ echo(value: number): number }>().echo(1));
    await pool.close({ force: true });
    expect(await call).toBeInstanceOf(PoolClosedError);
  });
});

describe('WorkerPool: CommonJS build', () => {
  it('works through require(), with its error classes shared by the CommonJS entries', async () => {
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const cjs = require('weftjs/pool') as typeof PoolModule;
    const cjsRoot = require('weftjs') as typeof RootModule;
    expect(cjs.WorkerPool).not.toBe(WorkerPool); // a separate build...
    expect(cjs.PoolClosedError).toBe(cjsRoot.PoolClosedError); // ...with one class per error across its entries
    const pool = new cjs.WorkerPool({ worker: fixture('worker.cjs'), maxThreads: 1 });
    expect(await pool.run('echo', ['from cjs'])).toBe('from cjs');
    await pool.close();
    expect(await rejectionOf(pool.run('echo', [1]))).toBeInstanceOf(cjsRoot.PoolClosedError);
  });
});
