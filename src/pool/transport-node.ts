/** The Node.js transport: workers are `node:worker_threads` Workers. */
import { availableParallelism, cpus } from 'node:os';
import { isAbsolute } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe } from '../internal/validate.js';
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
    return typeof availableParallelism === 'function' ? availableParallelism() : cpus().length || 1;
  },

  resolve(worker) {
    if (worker instanceof URL) return worker;
    if (typeof worker === 'string') {
      if (worker.startsWith('file:') && URL.canParse(worker)) return new URL(worker);
      if (isAbsolute(worker)) return worker;
    }
    throw new TypeError(
      `WorkerPool: worker must be an absolute path, a file: URL string or a URL, got ${describe(worker)}`,
    );
  },

  spawn(worker: URL | string, init: WorkerInit, options: SpawnOptions, events: WorkerEvents) {
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
