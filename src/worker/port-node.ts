/**
 * The worker side of the Node transport: the only file of weftjs/worker that touches `node:worker_threads`. A Web
 * Worker port can sit beside it with the same shape.
 */
import type * as WorkerThreads from 'node:worker_threads';
import { nodeModule } from '../pool/node-modules.js';
import { INIT_KEY, type WorkerInit } from '../pool/protocol.js';
import { runBeforeProcess } from './process-hooks.js';

/** The link from a pool worker back to its pool. */
export interface PoolPort {
  readonly init: WorkerInit;
  post(message: unknown[], transfer?: readonly Transferable[]): void;
  listen(handler: (message: unknown[]) => void): void;
  /** Runs `callback` when the worker is about to end itself (`process.exit`), to send what it still holds. */
  beforeExit(callback: () => void): void;
  /** Called as the task in `slot` starts, where the pool cannot see the slot table (a child process). */
  started?(slot: number): void;
}

/** The port to the pool, or `undefined` when this thread was not started by a `WorkerPool`. */
export function connectToPool(): PoolPort | undefined {
  const threads = nodeModule<typeof WorkerThreads>('node:worker_threads');
  const init = (threads.workerData as Record<string, unknown> | null | undefined)?.[INIT_KEY] as
    WorkerInit | undefined;
  const port = threads.parentPort;
  if (init === undefined || port === null) return undefined;
  return {
    init,
    post(message, transfer) {
      port.postMessage(message, transfer as Transferable[] | undefined as never);
    },
    listen(handler) {
      port.on('message', handler);
    },
    beforeExit(callback) {
      runBeforeProcess('exit', callback);
    },
  };
}
