// Type-checked against the installed package under moduleResolution node16 and bundler.
import { Mutex, RateLimiter, Semaphore, limit, type Permit, type RateLimiterOptions } from 'weftjs/sync';
import { Channel, recv, select } from 'weftjs/channel';
import { Scheduler, scope, type Task } from 'weftjs/scheduler';
import { WorkerPool, type PoolStats } from 'weftjs/pool';
import { SharedMutex, type SharedHandle } from 'weftjs/shared';
import { expose, type TaskContext } from 'weftjs/worker';
import { ClosedError, WorkerCrashedError } from 'weftjs';

export async function check(): Promise<number> {
  const sem = new Semaphore(2);
  const permit: Permit = await sem.acquire(1, { timeout: 100 });
  permit.release();
  const lim = limit(2);
  const doubled: number = await lim((n: number) => n * 2, 21);
  await new Mutex().run(() => undefined);
  const rateOptions: RateLimiterOptions = { limit: 10, interval: 1_000 };
  const rated: number = await new RateLimiter(rateOptions).run(() => 1, { weight: 2, timeout: 100 });

  const ch = new Channel<number>(1);
  await ch.send(1);
  const chosen = await select([recv(ch)]);
  const index: number = chosen.index;

  const scheduler = new Scheduler();
  const task: Task<string> = scheduler.spawn(function* () {
    yield;
    return 'done';
  });
  const text: string = await task;
  const inScope: number = await scope(async (s) => s.spawn(() => 1));

  const pool = new WorkerPool({ worker: new URL('./worker.mjs', import.meta.url) });
  const sum = await pool.run<number>('add', [1, 2]);
  const stats: PoolStats = pool.stats;
  await pool.close();

  const handle: SharedHandle = new SharedMutex().handle;
  const same: SharedMutex = SharedMutex.from(handle);
  expose({
    slow(this: TaskContext, ms: number) {
      return this.signal.aborted ? 0 : ms;
    },
  });
  const crashed = new WorkerCrashedError('crashed');
  const closed: boolean = crashed instanceof Error && !(crashed instanceof ClosedError);
  return (
    doubled +
    rated +
    index +
    text.length +
    inScope +
    sum +
    stats.completed +
    Number(closed) +
    Number(same.tryLock() !== undefined)
  );
}
