/**
 * The browser transport: workers are module Web Workers (`new Worker(url, { type: 'module' })`).
 *
 * A Web Worker keeps running after an uncaught error and ends silently on `close()`, so the worker side
 * (src/worker/port-web.ts) reports both before it stops, and the worker is then terminated: either way it counts as a
 * crash, as a Node worker that throws or exits does. Where memory cannot be shared (a page that is not cross-origin
 * isolated) the pool's slot table is a private copy; a task counts as running from the moment it is sent.
 */
import { invalid } from '../internal/validate.js';
import {
  INIT_KEY,
  markTaskSlots,
  SHARED_SLOTS,
  SLOT_RUNNING,
  deserializeError,
  type WorkerInit,
} from './protocol.js';
import { EXIT_KEY, type ExitNotice } from './protocol-web.js';
import type { SpawnOptions, Transport, WorkerEvents, WorkerHandle } from './transport.js';

/** Exit code reported for a worker that was terminated or died of an error (Node reports 1 for both too). */
const EXIT_FAILURE = 1;

class WebWorker implements WorkerHandle {
  private exited = false;
  /** The pool's copy of the slot table, when it is not shared with the worker. */
  private readonly localSlots: Int32Array | undefined;

  constructor(
    private readonly worker: Worker,
    url: string,
    init: WorkerInit,
    private readonly events: WorkerEvents,
  ) {
    this.localSlots = SHARED_SLOTS ? undefined : new Int32Array(init.slots);
    worker.onmessage = (event) => this.receive(event.data);
    worker.onerror = (event) => {
      event.preventDefault(); // handled: the pool reports it through the task's WorkerCrashedError
      this.crash(errorOf(event), EXIT_FAILURE);
    };
    worker.onmessageerror = () =>
      this.crash(
        new DOMException(`a message from the worker ${url} could not be deserialized`, 'DataCloneError'),
        EXIT_FAILURE,
      );
  }

  post(message: unknown[], transfer?: readonly Transferable[]): void {
    this.worker.postMessage(message, (transfer ?? []) as Transferable[]);
    const slots = this.localSlots;
    if (slots !== undefined) markTaskSlots(message, slots, SLOT_RUNNING);
  }

  terminate(): void {
    this.exit(EXIT_FAILURE);
  }

  ref(): void {}

  unref(): void {}

  private receive(data: unknown): void {
    if (Array.isArray(data)) {
      this.events.onMessage(data);
      return;
    }
    const notice = (data as { [EXIT_KEY]?: ExitNotice } | null)?.[EXIT_KEY];
    if (notice !== undefined) this.crash(deserializeError(notice.error), notice.code);
  }

  private crash(cause: unknown, code: number): void {
    if (this.exited) return;
    this.events.onError(cause);
    this.exit(code);
  }

  private exit(code: number): void {
    if (this.exited) return;
    this.exited = true;
    const worker = this.worker;
    worker.onmessage = worker.onerror = worker.onmessageerror = null;
    worker.terminate();
    // A Web Worker has no exit event; report it after the caller's turn, as Node's 'exit' comes.
    queueMicrotask(() => this.events.onExit(code));
  }
}

/** The cause of an `error` event: an uncaught error (an `ErrorEvent`) or a script that failed to load. */
function errorOf(event: Event): Error {
  const message = (event as ErrorEvent).message;
  if (typeof message === 'string' && message !== '') return new Error(message);
  return new Error(
    'its script did not load as a module worker ' +
      '(a network error, a syntax error or a failed import: the browser console has the details)',
  );
}

/** `value` as an absolute URL, or `undefined`. */
function parseUrl(value: string, base?: string): URL | undefined {
  try {
    return new URL(value, base);
  } catch {
    return undefined;
  }
}

export const webTransport: Transport = {
  defaultThreads() {
    const cores = (globalThis as { navigator?: { hardwareConcurrency?: unknown } }).navigator
      ?.hardwareConcurrency;
    return typeof cores === 'number' && cores >= 1 ? Math.floor(cores) : 1;
  },

  resolve(worker) {
    if (typeof Worker !== 'function') {
      throw new Error('WorkerPool: this runtime has neither Node.js worker_threads nor Web Workers');
    }
    if (worker instanceof URL) return worker;
    if (typeof worker === 'string') {
      const absolute = parseUrl(worker);
      if (absolute !== undefined) return absolute;
      const base = (globalThis as { location?: { href?: string } }).location?.href;
      const rooted = worker.startsWith('/') && base !== undefined ? parseUrl(worker, base) : undefined;
      if (rooted !== undefined) return rooted;
    }
    throw invalid(
      'WorkerPool',
      'worker must be a URL, an absolute URL string or a path starting with "/"',
      worker,
    );
  },

  spawn(worker: URL | string, init: WorkerInit, options: SpawnOptions, events: WorkerEvents) {
    const thread = new Worker(worker, { type: 'module', name: options.name });
    const handle = new WebWorker(thread, String(worker), init, events);
    // Queued until the worker's script has run; weftjs/worker listens from the moment it loads.
    thread.postMessage({ [INIT_KEY]: init });
    return handle;
  },
};
