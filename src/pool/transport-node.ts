/** The Node.js transport: workers are `node:worker_threads` Workers. */
import type * as Os from 'node:os';
import type * as Path from 'node:path';
import type * as WorkerThreads from 'node:worker_threads';
import type { Worker } from 'node:worker_threads';
import { invalid } from '../internal/validate.js';
import { nodeModule } from './node-modules.js';
import { INIT_KEY, type WorkerInit } from './protocol.js';
import type { SpawnOptions, Transport, WorkerEvents, WorkerHandle } from './transport.js';

class NodeWorker implements WorkerHandle {
  constructor(private readonly worker: Worker) {}

  post(message: unknown[], transfer?: readonly Transferable[]): void {
    this.worker.postMessage(message, transfer as never);
  }

  terminate(): void {
    void this.worker.terminate();
  }

  ref(): void {
    this.worker.ref();
  }

  unref(): void {
    this.worker.unref();
  }
}

export const nodeTransport: Transport = {
  defaultThreads() {
    const { availableParallelism, cpus } = nodeModule<typeof Os>('node:os');
    return typeof availableParallelism === 'function' ? availableParallelism() : cpus().length || 1;
  },

  resolve(worker) {
    if (worker instanceof URL) return worker;
    if (typeof worker === 'string') {
      if (worker.startsWith('file:') && URL.canParse(worker)) return new URL(worker);
      if (nodeModule<typeof Path>('node:path').isAbsolute(worker)) return worker;
    }
    throw invalid('WorkerPool', 'worker must be an absolute path, a file: URL string or a URL', worker);
  },

  spawn(worker: URL | string, init: WorkerInit, options: SpawnOptions, events: WorkerEvents) {
    const { Worker } = nodeModule<typeof WorkerThreads>('node:worker_threads');
    const thread = new Worker(worker, {
      workerData: { [INIT_KEY]: init },
      name: options.name,
      ...(options.execArgv !== undefined && { execArgv: options.execArgv }),
      ...(options.env !== undefined && { env: options.env }),
      ...(options.resourceLimits !== undefined && { resourceLimits: options.resourceLimits }),
    });
    thread.on('message', (message: unknown[]) => events.onMessage(message));
    thread.on('error', (error: unknown) => events.onError(error));
    thread.on('exit', (code: number) => events.onExit(code));
    return new NodeWorker(thread);
  },
};
