/**
 * The worker side of the browser transport: a pool worker that is a module Web Worker.
 *
 * A Web Worker gets no start-up data, so the pool's first message carries the {@link WorkerInit}. This module starts
 * listening as soon as it loads (before the worker's own module body runs), so the message is not missed by a worker
 * that awaits something before calling `expose()`. Once connected, it reports the worker's own end (`close()`, an
 * uncaught error, an unhandled rejection) to the pool before it stops, since the page would otherwise not hear of it.
 */
import { INIT_KEY, SLOT_QUEUED, markTaskSlots, serializeError, type WorkerInit } from '../pool/protocol.js';
import { EXIT_KEY, type ExitNotice } from '../pool/protocol-web.js';
import type { PoolPort } from './port-node.js';

/** The parts of `DedicatedWorkerGlobalScope` used here. */
interface WorkerScope {
  postMessage(message: unknown, transfer: Transferable[]): void;
  addEventListener(type: string, listener: (event: Event) => void): void;
  close(): void;
}

/** `globalThis` in a dedicated Web Worker; `undefined` in a page, a shared or service worker, or Node. */
function dedicatedWorkerScope(): WorkerScope | undefined {
  const Scope = (globalThis as { DedicatedWorkerGlobalScope?: unknown }).DedicatedWorkerGlobalScope;
  return typeof Scope === 'function' && globalThis instanceof Scope
    ? (globalThis as unknown as WorkerScope)
    : undefined;
}

class WebPort implements PoolPort {
  private handler: ((message: unknown[]) => void) | undefined = undefined;
  /** Messages that came before the runtime listened. */
  private early: unknown[][] = [];
  private flushOnExit: (() => void) | undefined = undefined;
  private ending = false;
  /** The worker's own copy of the slot table, when memory is not shared with the pool. */
  private readonly localSlots: Int32Array | undefined;

  constructor(
    private readonly scope: WorkerScope,
    readonly init: WorkerInit,
  ) {
    const shared = typeof SharedArrayBuffer === 'function' && init.slots instanceof SharedArrayBuffer;
    this.localSlots = shared ? undefined : new Int32Array(init.slots);
    // The real close(), kept before it is wrapped below.
    const close = scope.close.bind(scope);
    scope.close = () => this.end(0, new Error('the worker called close()'), close);
    scope.addEventListener('error', (event) => {
      event.preventDefault(); // reported to the pool instead, as the cause of the task's WorkerCrashedError
      const uncaught = event as ErrorEvent;
      const error: unknown = uncaught.error;
      this.end(1, error ?? new Error(uncaught.message), close);
    });
    scope.addEventListener('unhandledrejection', (event) => {
      event.preventDefault();
      this.end(1, (event as PromiseRejectionEvent).reason, close);
    });
  }

  post(message: unknown[], transfer?: readonly Transferable[]): void {
    this.scope.postMessage(message, (transfer ?? []) as Transferable[]);
  }

  listen(handler: (message: unknown[]) => void): void {
    this.handler = handler;
    const early = this.early;
    this.early = [];
    for (const message of early) this.deliver(message);
  }

  beforeExit(callback: () => void): void {
    this.flushOnExit = callback;
  }

  deliver(message: unknown[]): void {
    const handler = this.handler;
    if (handler === undefined) {
      this.early.push(message);
      return;
    }
    const slots = this.localSlots;
    // The pool's copy says "sent"; ours must say "queued" for the runtime to claim the task.
    if (slots !== undefined) markTaskSlots(message, slots, SLOT_QUEUED);
    handler(message);
  }

  /** The worker stops on its own: deliver what it finished, tell the pool why, then close. */
  private end(code: number, cause: unknown, close: () => void): void {
    if (this.ending) return;
    this.ending = true;
    try {
      this.flushOnExit?.();
    } catch {
      // Results that cannot be sent now are lost with the worker; the pool must still hear why it ends.
    }
    try {
      this.notify(code, cause);
    } finally {
      close();
    }
  }

  private notify(code: number, cause: unknown): void {
    const notice: ExitNotice = { code, error: serializeError(cause) };
    try {
      this.scope.postMessage({ [EXIT_KEY]: notice }, []);
    } catch {
      // The cause cannot be cloned: send its text.
      const text = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
      this.scope.postMessage({ [EXIT_KEY]: { code, error: serializeError(new Error(text)) } }, []);
    }
  }
}

const scope = dedicatedWorkerScope();
let port: WebPort | undefined;
let waiting: ((port: PoolPort) => void)[] = [];

if (scope !== undefined) {
  scope.addEventListener('message', (event) => {
    const data = (event as MessageEvent<unknown>).data;
    if (port !== undefined) {
      if (Array.isArray(data)) port.deliver(data);
      return;
    }
    const init = (data as { [INIT_KEY]?: WorkerInit } | null)?.[INIT_KEY];
    if (init === undefined) return;
    port = new WebPort(scope, init);
    const starts = waiting;
    waiting = [];
    for (const start of starts) start(port);
  });
}

/**
 * Calls `start` with the port to the pool once the pool's first message has come (at once if it already has).
 * Never calls it where this is not a dedicated Web Worker, nor in a worker that no pool started.
 */
export function whenPoolConnects(start: (port: PoolPort) => void): void {
  if (scope === undefined) return;
  if (port !== undefined) start(port);
  else waiting.push(start);
}
