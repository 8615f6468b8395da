/**
 * The pool's scheduling rules as plain functions over what they read of a worker (does it take tasks, how many
 * does it hold, how many slots are free), so they can be tested without threads. The engine (pool-engine.ts) applies
 * them: the window sets how deep a worker is fed, dispatch spreads waiting tasks, stealing moves tasks a busy worker
 * has not started to an idle one, and the spawn rule sizes the pool.
 */

/** Work (by the average task run time) worth queueing inside one worker ahead of its current task (ms). */
export const PIPELINE_BUDGET_MS = 1;
/** Most tasks sent to one worker and not yet answered. */
export const MAX_WINDOW = 64;
/** The average run time a pool starts with (ms): a window of 4. */
export const INITIAL_AVERAGE_RUN = PIPELINE_BUDGET_MS / 4;
/** Weight of the newest short run in the moving average. */
const AVERAGE_WEIGHT = 0.1;

/** What the rules read of a worker. */
export interface WorkerLoad {
  /** Whether it takes tasks now. */
  readonly ready: boolean;
  /** Tasks sent to it and not answered yet; the first one is running (or about to). */
  readonly load: number;
  /** Slots free for new tasks (may reclaim slots the worker has let go of). */
  freeSlots(): number;
}

/**
 * How many tasks a worker may hold: about {@link PIPELINE_BUDGET_MS} of work by the average run time, at least one
 * and at most {@link MAX_WINDOW}. Where a sent task cannot be taken back (`revocable` false), one: nothing queues
 * behind the running task.
 */
export function windowSize(averageRun: number, revocable: boolean): number {
  if (!revocable) return 1;
  const fit = Math.floor(PIPELINE_BUDGET_MS / averageRun);
  return fit < 1 ? 1 : fit > MAX_WINDOW ? MAX_WINDOW : fit;
}

/** The average run time after a task ran `runMs`: a long task narrows the window at once, short ones widen it gradually. */
export function nextAverageRun(average: number, runMs: number): number {
  return runMs > PIPELINE_BUDGET_MS && runMs > average ? runMs : average + (runMs - average) * AVERAGE_WEIGHT;
}

/** Whether `worker` can take a task now, within `window`. */
function hasRoom(worker: WorkerLoad, window: number): boolean {
  return worker.ready && worker.load < window && worker.freeSlots() > 0;
}

/**
 * Spreads `waiting` tasks over `workers`, idle workers first, then the others: each gets an even share of what is
 * still waiting, up to its window and its free slots. `send(worker, count)` sends up to `count` tasks and returns how
 * many left the queue. Returns how many are still waiting.
 */
export function dispatchTasks<W extends WorkerLoad>(
  workers: readonly W[],
  waiting: number,
  window: number,
  send: (worker: W, count: number) => number,
): number {
  if (waiting === 0) return 0;
  let candidates = 0;
  for (const worker of workers) if (hasRoom(worker, window)) candidates++;
  for (let pass = 0; pass < 2 && waiting > 0 && candidates > 0; pass++) {
    for (const worker of workers) {
      if (waiting === 0) break;
      const load = worker.load;
      if (!worker.ready || load >= window || (pass === 0) !== (load === 0)) continue;
      const free = worker.freeSlots();
      if (free === 0) continue;
      // A worker topped up in the second pass was counted once already.
      const share = candidates > 1 ? Math.ceil(waiting / candidates--) : waiting;
      waiting -= send(worker, Math.min(share, window - load, free));
    }
  }
  return waiting;
}

/** Whether `worker` is ready with nothing to do, and so may take tasks from another. */
export function isIdle(worker: WorkerLoad): boolean {
  return worker.ready && worker.load === 0;
}

/** The worker `thief` takes tasks from: the ready one with the most tasks queued behind its running one. */
export function stealVictim<W extends WorkerLoad>(workers: readonly W[], thief: W): W | undefined {
  let victim: W | undefined;
  let most = 0;
  for (const worker of workers) {
    const queued = worker.load - 1; // the head is running (or about to)
    if (worker !== thief && worker.ready && queued > most) {
      victim = worker;
      most = queued;
    }
  }
  return victim;
}

/** How many of the tasks queued on `victim` an idle `thief` takes: half, within its window and free slots. */
export function stealCount(victim: WorkerLoad, thief: WorkerLoad, window: number): number {
  return Math.min(Math.ceil((victim.load - 1) / 2), window, thief.freeSlots());
}

/**
 * How many workers should be live: one per task that needs one (`demand`), at least `minThreads` (none once the pool
 * is closed) and at most `maxThreads`.
 */
export function threadsWanted(
  demand: number,
  minThreads: number,
  maxThreads: number,
  closed: boolean,
): number {
  return Math.min(maxThreads, Math.max(closed ? 0 : minThreads, demand));
}
