import { invalid } from '../internal/validate.js';
import { hasNodeBuiltins } from './node-modules.js';
import type { Transport } from './transport.js';
import { nodeTransport } from './transport-node.js';
import { processTransport } from './transport-process.js';
import { webTransport } from './transport-web.js';

/**
 * The transport for a pool's `runtime`, chosen when the pool is created. Threads: `node:worker_threads` where Node's
 * built-in modules can be loaded, module Web Workers elsewhere. Processes: `node:child_process`, Node only. None is
 * imported at load time, so the pool's code is the same everywhere and a browser never sees a `node:` import. A
 * Node.js too old for `process.getBuiltinModule` (and without Web Workers) gets the Node transport, whose first use
 * says which versions have it.
 *
 * @throws `TypeError` for a `runtime` that is neither `'thread'` nor `'process'`; `Error` for `'process'` where
 *   there are no child processes (a browser).
 */
export function platformTransport(runtime: unknown = 'thread'): Transport {
  if (runtime === 'process') {
    if (hasNodeBuiltins()) return processTransport;
    throw new Error(
      'WorkerPool: runtime "process" needs Node.js child processes, which this runtime does not have; ' +
        'in a browser use runtime "thread" (module Web Workers)',
    );
  }
  if (runtime !== 'thread') throw invalid('WorkerPool', 'runtime must be "thread" or "process"', runtime);
  return hasNodeBuiltins() || typeof Worker !== 'function' ? nodeTransport : webTransport;
}
