/**
 * The worker side of the Node transport: the only file of weft/worker that touches `node:worker_threads`. A Web
 * Worker port can sit beside it with the same shape.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { INIT_KEY, type WorkerInit } from '../pool/protocol.js';

/** The link from a pool worker back to its pool. */
export interface PoolPort {
  readonly init: WorkerInit;
  post(message: unknown[], transfer?: readonly Transferable[]): void;
  listen(handler: (message: unknown[]) => void): void;
}

/** The port to the pool, or `undefined` when this thread was not started by a `WorkerPool`. */
export function connectToPool(): PoolPort | undefined {
  const init = (workerData as Record<string, unknown> | null | undefined)?.[INIT_KEY] as WorkerInit | undefined;
  const port = parentPort;
  if (init === undefined || port === null) return undefined;
  return {
    init,
    post(message, transfer) {
      port.postMessage(message, transfer as Transferable[] | undefined as never);
    },
    listen(handler) {
      port.on('message', handler);
    },
  };
}
