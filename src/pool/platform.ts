import { hasNodeBuiltins } from './node-modules.js';
import type { Transport } from './transport.js';
import { nodeTransport } from './transport-node.js';
import { webTransport } from './transport-web.js';

/**
 * The transport of this platform, chosen when a pool is created: `node:worker_threads` where Node's built-in modules
 * can be loaded, module Web Workers elsewhere. Neither is imported at load time, so the pool's code is the same
 * everywhere and a browser never sees a `node:` import. A Node.js too old for `process.getBuiltinModule` (and without
 * Web Workers) gets the Node transport, whose first use says which versions have it.
 */
export function platformTransport(): Transport {
  return hasNodeBuiltins() || typeof Worker !== 'function' ? nodeTransport : webTransport;
}
