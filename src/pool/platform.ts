import { isNode } from './node-modules.js';
import type { Transport } from './transport.js';
import { nodeTransport } from './transport-node.js';
import { webTransport } from './transport-web.js';

/**
 * The transport of this platform, chosen when a pool is created: `node:worker_threads` under Node.js (and runtimes
 * that present themselves as Node), module Web Workers elsewhere. Neither is imported at load time, so the pool's
 * code is the same everywhere and a browser never sees a `node:` import.
 */
export function platformTransport(): Transport {
  return isNode() ? nodeTransport : webTransport;
}
