/** The errors of tasks whose worker died: while it ran them, or before any worker could run anything. */
import { WorkerCrashedError, type WorkerCrashedErrorOptions } from '../errors.js';
import type { PoolWorker } from './worker.js';

/** The error of a task that was running when its worker died. */
export function crashError(
  worker: PoolWorker,
  exitCode: number,
  signal: string | undefined,
  operation: string,
): WorkerCrashedError {
  const cause = worker.error;
  const how = cause instanceof Error ? `died: ${cause.message}` : exitDescription(exitCode, signal);
  return new WorkerCrashedError(`${operation}: the worker ${how}`, crashOptions(cause, exitCode, signal));
}

/**
 * The error of the queued tasks when the last worker died without doing any work (it failed to load, or died
 * before its first answer): no new worker is started in a loop, the queue fails instead.
 */
export function startFailedError(
  worker: PoolWorker,
  exitCode: number,
  signal: string | undefined,
  file: string,
): WorkerCrashedError {
  const cause = worker.error;
  const detail =
    cause instanceof Error
      ? cause.message
      : worker.everReady
        ? exitDescription(exitCode, signal)
        : `${exitDescription(exitCode, signal)} before calling expose()`;
  const what = worker.everReady ? 'died before running any task' : 'failed to start';
  return new WorkerCrashedError(
    `WorkerPool: the worker ${file} ${what}: ${detail}`,
    crashOptions(cause, exitCode, signal),
  );
}

/** How a worker ended, for crash messages: its exit code, or the signal that killed its process. */
function exitDescription(exitCode: number, signal: string | undefined): string {
  return signal === undefined ? `exited with code ${exitCode}` : `was killed by signal ${signal}`;
}

function crashOptions(
  cause: unknown,
  exitCode: number,
  signal: string | undefined,
): WorkerCrashedErrorOptions {
  return signal === undefined ? { cause, exitCode } : { cause, signal };
}
