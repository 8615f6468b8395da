/**
 * The pool's suites run once per runtime: worker threads and child processes share one engine, and every rule of
 * the pool holds for both.
 */
import type { WorkerPool } from 'weftjs/pool';

export const RUNTIMES = ['thread', 'process'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/**
 * Cells a worker task writes and the test reads (see `store` in the worker fixture). Threads share memory; a child
 * process keeps the cells and a later task reads them, so with `'process'` the pool must have one worker, free when
 * `read` is called.
 */
export interface Cells {
  /** The argument to pass to the task. */
  readonly arg: Int32Array | undefined;
  read(index: number): Promise<number>;
}

export async function cells(pool: WorkerPool, runtime: Runtime): Promise<Cells> {
  if (runtime === 'thread') {
    const shared = new Int32Array(new SharedArrayBuffer(8));
    return { arg: shared, read: (index) => Promise.resolve(Atomics.load(shared, index)) };
  }
  await pool.run('resetCells');
  return { arg: undefined, read: (index) => pool.run<number>('cell', [index]) };
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds, polling (real workers take real time; no fixed sleeps). */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await delay(5);
  }
}
