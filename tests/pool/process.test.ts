// What is particular to runtime: 'process' (the shared suites run on it too): values that cross or cannot, crashes
// that only a process can have, and the lifetime of the child processes.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import { SharedMutex } from 'weftjs/shared';
import { WorkerCrashedError, WorkerPool } from 'weftjs/pool';
import { platformTransport } from '../../src/pool/platform.js';
import { rejectionOf } from '../helpers.js';
import { RUNTIMES, until } from './runtimes.js';

const worker = new URL('../fixtures/pool/worker.mjs', import.meta.url);
const parentScript = fileURLToPath(new URL('../fixtures/pool/process-parent.mjs', import.meta.url));

/** Whether process `pid` still runs (a zombie waiting to be reaped does not). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Runs the parent fixture in `mode`; resolves with it, the pids of its children, and what it printed. */
async function startParent(mode: string): Promise<{
  pids: number[];
  parent: ReturnType<typeof spawn>;
  output: { stdout: string; stderr: string };
  exited: Promise<number | null>;
}> {
  const parent = spawn(process.execPath, [parentScript, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = { stdout: '', stderr: '' };
  parent.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  parent.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => parent.on('exit', resolve));
  await until(() => output.stdout.includes('\n'), 15_000);
  const pids = JSON.parse(output.stdout.split('\n')[0]!) as number[];
  return { pids, parent, output, exited };
}

describe.each(RUNTIMES)('WorkerPool: structured clone (%s)', (runtime) => {
  const pool = new WorkerPool({ worker, maxThreads: 1, runtime });
  afterAll(() => pool.close());

  it('round-trips Map, Set, Date, BigInt, RegExp, typed arrays, nested and cyclic values, and errors', async () => {
    const cyclic: { self?: unknown; n: number } = { n: 1 };
    cyclic.self = cyclic;
    const value = {
      map: new Map<unknown, unknown>([
        [1, 'one'],
        ['k', new Set([1n, 2n])],
      ]),
      date: new Date(1_700_000_000_000),
      big: 2n ** 80n,
      re: /we(f)t/giu,
      bytes: new Uint8Array([1, 2, 255]),
      floats: new Float64Array([0.5, -0, NaN]),
      view: new DataView(new ArrayBuffer(4)),
      nested: [undefined, null, [Infinity, -Infinity]],
      error: new RangeError('out', { cause: new Error('inner') }),
      cyclic,
    };
    const back = await pool.run<typeof value>('echo', [value]);
    expect(back).toEqual(value);
    expect(back.map.get('k')).toEqual(new Set([1n, 2n]));
    expect(back.bytes).toBeInstanceOf(Uint8Array);
    expect(Object.is(back.floats[1], -0)).toBe(true);
    expect(back.error).toBeInstanceOf(RangeError);
    expect((back.error.cause as Error).message).toBe('inner');
    expect(back.cyclic.self).toBe(back.cyclic);
  });
});

describe('WorkerPool (process): what cannot cross', () => {
  const pool = new WorkerPool({ worker, maxThreads: 1, runtime: 'process' });
  afterAll(() => pool.close());

  it('rejects a SharedArrayBuffer, a weftjs/shared handle or a function with a TypeError naming it', async () => {
    const cases: [unknown[], RegExp][] = [
      [
        [new SharedArrayBuffer(8)],
        /WorkerPool\.run: args\[0\] is a SharedArrayBuffer, and shared memory cannot cross/,
      ],
      [[1, new Int32Array(new SharedArrayBuffer(8))], /args\[1\]\.buffer is a SharedArrayBuffer/],
      [[{ lock: new SharedMutex().handle }], /args\[0\]\.lock is a weftjs\/shared handle \(SharedMutex\)/],
      [[new Map([['f', () => 1]])], /args\[0\] value #0 is a function, and a function cannot cross/],
    ];
    for (const [args, message] of cases) {
      const error = (await rejectionOf(pool.run('echo', args))) as TypeError;
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toMatch(message);
    }
    expect(
      ((await rejectionOf(pool.stream('count', [new SharedArrayBuffer(8)]).next())) as Error).message,
    ).toMatch(/WorkerPool\.stream: args\[0\] is a SharedArrayBuffer/);
  });

  it('fails only the task that cannot cross; tasks sent with it and after it run', async () => {
    const tasks = [
      pool.run('echo', [1]),
      pool.run('echo', [new SharedArrayBuffer(8)]),
      pool.run('echo', [3]),
    ];
    const outcomes = await Promise.allSettled(tasks);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await pool.run('echo', ['usable'])).toBe('usable');
    expect(pool.stats.crashed).toBe(0);
  });
});

describe('WorkerPool (process): crashes only a process can have', () => {
  it('process.abort() rejects only its task, with the signal; tasks behind it run elsewhere', async () => {
    await using pool = new WorkerPool({ worker, maxThreads: 2, runtime: 'process' });
    const tasks = [pool.run('abort'), ...Array.from({ length: 20 }, (_, i) => pool.run('echo', [i]))];
    const outcomes = await Promise.allSettled(tasks);
    const error = (outcomes[0] as PromiseRejectedResult).reason as WorkerCrashedError;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error).toMatchObject({ signal: 'SIGABRT', exitCode: undefined });
    expect(error.message).toMatch(/WorkerPool\.run\(abort\): the worker was killed by signal SIGABRT/);
    expect(outcomes.slice(1)).toEqual(
      Array.from({ length: 20 }, (_, i) => ({ status: 'fulfilled', value: i })),
    );
    expect(pool.stats.crashed).toBe(1);
  });

  it('heap exhaustion rejects only its task, even with tasks pipelined behind it on the same process', async () => {
    await using pool = new WorkerPool({
      worker,
      maxThreads: 1,
      runtime: 'process',
      resourceLimits: { maxOldGenerationSizeMb: 24 },
    });
    // Tiny tasks first, so the next ones are pipelined deep behind the one that runs out of memory.
    await Promise.all(Array.from({ length: 300 }, (_, i) => pool.run('echo', [i])));
    const oom = pool.run('oom');
    const behind = Array.from({ length: 20 }, (_, i) => pool.run('echo', [i]));
    const error = (await rejectionOf(oom)) as WorkerCrashedError;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.signal).toBe('SIGABRT');
    expect(await Promise.all(behind)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(pool.stats).toMatchObject({ crashed: 1, failed: 1 });
  });

  it('a SIGKILL from outside rejects the running task with the signal; the process is replaced', async () => {
    await using pool = new WorkerPool({ worker, maxThreads: 1, runtime: 'process' });
    const pid = await pool.run<number>('pid');
    const scratch = mkdtempSync(path.join(tmpdir(), 'weft-pool-'));
    onTestFinished(() => rmSync(scratch, { recursive: true, force: true }));
    const marker = path.join(scratch, 'started');
    const running = pool.run('markThenSleep', [marker, 10_000]);
    const behind = pool.run('echo', ['behind']);
    await until(() => existsSync(marker), 10_000);
    process.kill(pid, 'SIGKILL');
    const error = (await rejectionOf(running)) as WorkerCrashedError;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.signal).toBe('SIGKILL');
    expect(await behind).toBe('behind');
    expect(await pool.run<number>('pid')).not.toBe(pid);
  });
});

describe('WorkerPool (process): child processes', () => {
  it('leaves no child behind when its parent is killed with SIGKILL', async () => {
    const { pids, parent, exited } = await startParent('hang');
    expect(pids.every(alive)).toBe(true);
    parent.kill('SIGKILL');
    await exited;
    await until(() => !pids.some(alive), 10_000);
  });

  it('leaves no child behind when its parent exits without closing the pool', async () => {
    const { pids, exited } = await startParent('exit');
    expect(await exited).toBe(0);
    await until(() => !pids.some(alive), 10_000);
  });

  it("passes the children's stdout and stderr to the parent's", async () => {
    const { output, exited } = await startParent('log');
    expect(await exited).toBe(0);
    expect(output.stdout).toContain('hello from a child\n');
    expect(output.stderr).toContain('hello from a child (stderr)\n');
  });

  it('close({ force: true }) kills the children at once', async () => {
    const pool = new WorkerPool({ worker, maxThreads: 1, runtime: 'process' });
    const pid = await pool.run<number>('pid');
    const stuck = rejectionOf(pool.run('spin', [60_000]));
    await until(() => pool.stats.busy === 1);
    await pool.close({ force: true });
    await stuck;
    await until(() => !alive(pid));
  });

  it('hides its own start-up flags and marks from the worker', async () => {
    await using pool = new WorkerPool({ worker, maxThreads: 1, runtime: 'process' });
    expect(await pool.run('execArgv')).toEqual(process.execArgv);
    expect(await pool.run('env', ['WEFT_POOL_PROCESS'])).toBeUndefined();
  });
});

describe('WorkerPool (process): where there are no child processes', () => {
  it('throws a clear error at construction', () => {
    const proc = process as { getBuiltinModule?: unknown };
    const getBuiltinModule = proc.getBuiltinModule;
    proc.getBuiltinModule = undefined; // what a browser looks like to the pool
    try {
      expect(() => platformTransport('process')).toThrow(/runtime "process" needs Node\.js child processes/);
      expect(() => platformTransport('thread')).not.toThrow();
    } finally {
      proc.getBuiltinModule = getBuiltinModule;
    }
  });
});

describe('WorkerPool (process): cancelling tasks a child holds', () => {
  it('a stubborn task cancelled while queued in a busy child is stopped after abortGrace once it starts', async () => {
    await using pool = new WorkerPool({ worker, maxThreads: 1, abortGrace: 100, runtime: 'process' });
    // Tiny tasks first: the next ones are pipelined into the child behind the running one.
    await Promise.all(Array.from({ length: 300 }, (_, i) => pool.run('echo', [i])));
    const controller = new AbortController();
    const busy = pool.run('spin', [300, 'busy']);
    const stubborn = pool.run('stubborn', [60_000], { signal: controller.signal });
    const behind = pool.run('echo', ['behind']);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    expect(((await rejectionOf(stubborn)) as Error).name).toBe('AbortError');
    expect(await busy).toBe('busy');
    expect(await behind).toBe('behind');
    expect(pool.stats.crashed).toBe(0);
  });
});
