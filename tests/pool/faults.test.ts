import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WorkerCrashedError, WorkerPool } from 'weftjs/pool';
import { rejectionOf } from '../helpers.js';
import { RUNTIMES } from './runtimes.js';

const fixture = (name: string): URL => new URL(`../fixtures/pool/${name}`, import.meta.url);
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(RUNTIMES)('WorkerPool: crashes (%s)', (runtime) => {
  it('a worker that throws uncaught rejects only its task, is replaced, and the queue goes on', async () => {
    await using pool = new WorkerPool({ worker: fixture('worker.mjs'), maxThreads: 1, runtime });
    const before = pool.run('echo', ['before']);
    const crash = pool.run('crashInTimer', ['boom']);
    const after = [pool.run('echo', ['a']), pool.run('echo', ['b'])];
    expect(await before).toBe('before');
    const error = (await rejectionOf(crash)) as WorkerCrashedError;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.message).toMatch(/crashInTimer.*died: boom/);
    expect((error.cause as Error).message).toBe('boom');
    expect(error.exitCode).toBe(1);
    expect(await Promise.all(after)).toEqual(['a', 'b']);
    expect(pool.stats).toMatchObject({ crashed: 1, failed: 1, completed: 3, threads: 1 });
  });

  it('a worker that calls process.exit rejects with its exit code', async () => {
    await using pool = new WorkerPool({ worker: fixture('worker.mjs'), maxThreads: 1, runtime });
    const error = (await rejectionOf(pool.run('exit', [3]))) as WorkerCrashedError;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(error.exitCode).toBe(3);
    expect(error.message).toMatch(/exited with code 3/);
    expect(await pool.run('echo', ['next'])).toBe('next');
  });

  it('a worker that exceeds resourceLimits rejects with WorkerCrashedError', async () => {
    await using pool = new WorkerPool({
      worker: fixture('worker.mjs'),
      maxThreads: 1,
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
      runtime,
    });
    const error = (await rejectionOf(pool.run('oom'))) as WorkerCrashedError;
    expect(error).toBeInstanceOf(WorkerCrashedError);
    if (runtime === 'thread')
      expect((error.cause as { code?: string }).code).toBe('ERR_WORKER_OUT_OF_MEMORY');
    else expect(error).toMatchObject({ signal: 'SIGABRT', exitCode: undefined }); // V8 aborts the process
    expect(await pool.run('echo', ['recovered'])).toBe('recovered');
    expect(pool.stats.crashed).toBe(1);
  });

  it('tasks pipelined behind a crashing task on the same worker are re-run elsewhere, not failed', async () => {
    await using pool = new WorkerPool({ worker: fixture('worker.mjs'), maxThreads: 2, runtime });
    const tasks = [pool.run('exit', [1]), ...Array.from({ length: 20 }, (_, i) => pool.run('echo', [i]))];
    const outcomes = await Promise.allSettled(tasks);
    expect(outcomes[0]!.status).toBe('rejected');
    expect(outcomes.slice(1).map((o) => (o.status === 'fulfilled' ? o.value : o.reason))).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
  });
});

describe.each(RUNTIMES)('WorkerPool: workers that cannot start (%s)', (runtime) => {
  // Written at run time: a file that does not parse would trip the linters.
  const scratch = mkdtempSync(path.join(tmpdir(), 'weft-pool-'));
  writeFileSync(
    path.join(scratch, 'syntax-error.mjs'),
    "import { expose } from 'weftjs/worker';\nexpose({ ok() { return 1 } ;\n",
  );
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  const cases: [string, string | URL, RegExp][] = [
    [
      'a syntax error',
      path.join(scratch, 'syntax-error.mjs'),
      /failed to start: .*(Unexpected|SyntaxError|missing|expected)/i,
    ],
    ['a throw while loading', fixture('throws-on-load.mjs'), /failed to start: cannot load this worker/],
    ['a missing file', fixture('does-not-exist.mjs'), /failed to start: Cannot find module/],
    [
      'no expose() call',
      fixture('no-expose.mjs'),
      /failed to start: exited with code 0 before calling expose\(\)/,
    ],
  ];
  for (const [what, file, message] of cases) {
    it(`rejects clearly on ${what}, without respawning in a loop, and stays usable`, async () => {
      await using pool = new WorkerPool({ worker: file, maxThreads: 2, runtime });
      const errors = await Promise.all([
        rejectionOf(pool.run('echo', [1])),
        rejectionOf(pool.run('echo', [2])),
      ]);
      for (const error of errors) {
        expect(error).toBeInstanceOf(WorkerCrashedError);
        expect((error as Error).message).toMatch(message);
      }
      await delay(100);
      const { crashed, threads } = pool.stats;
      expect(crashed).toBeLessThanOrEqual(2);
      expect(threads).toBe(0);
      // Another call tries again (the file may have been fixed) and fails the same clear way.
      expect(((await rejectionOf(pool.run('echo', [3]))) as Error).message).toMatch(message);
      await delay(50);
      expect(pool.stats.crashed).toBeLessThanOrEqual(crashed + 2);
    });
  }

  it('does not respawn forever a worker that dies while idle before any task', async () => {
    await using pool = new WorkerPool({
      worker: fixture('idle-crash.mjs'),
      minThreads: 1,
      maxThreads: 1,
      runtime,
    });
    for (let i = 0; i < 500 && pool.stats.crashed === 0; i++) await delay(10);
    await delay(200);
    expect(pool.stats.crashed).toBe(1);
    expect(pool.stats.threads).toBe(0);
  });
});
