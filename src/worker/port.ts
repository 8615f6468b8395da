import { hasNodeBuiltins } from '../pool/node-modules.js';
import { connectToPool as connectNodePort, type PoolPort } from './port-node.js';
import { connectToProcessPool } from './port-process.js';
import { whenPoolConnects } from './port-web.js';

/**
 * Calls `start` with the link to the pool that started this thread: at once in a Node.js worker thread or child
 * process (they get their start-up data synchronously), once the pool's first message arrives in a Web Worker. Never calls it when this
 * thread was not started by a `WorkerPool`.
 */
export function connectToPool(start: (port: PoolPort) => void): void {
  if (hasNodeBuiltins()) {
    const port = connectNodePort() ?? connectToProcessPool();
    if (port !== undefined) start(port);
    return;
  }
  whenPoolConnects(start);
}
