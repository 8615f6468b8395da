/**
 * The host's event-loop primitives and clock, shared by the scheduler, the channels' turn budget and the worker
 * runtime; looked up once when the module loads. Capturing them (as React's scheduler does) keeps slices running
 * when a test later installs fake timers: those still control the user's timers (`sleep`, task timeouts) but cannot
 * stall the scheduler or freeze a channel. Browser-safe: nothing here imports a Node.js built-in module.
 */

type Callback = () => void;

/** The globals this module looks for; any of them may be missing. */
export interface Host {
  setImmediate?: ((callback: Callback) => unknown) | undefined;
  MessageChannel?: (new () => MessageChannel) | undefined;
  setTimeout?: ((callback: Callback, ms: number) => unknown) | undefined;
  performance?: { now(): number } | undefined;
  scheduler?: { yield?: (() => Promise<void>) | undefined } | undefined;
}

const host = globalThis as Host;
const perf = host.performance;

/** Milliseconds on a monotonic clock (`Date.now` where `performance` is missing). */
export const now: () => number = typeof perf?.now === 'function' ? perf.now.bind(perf) : Date.now;

/**
 * A function that runs a callback in a later macrotask by the best means the host has: `setImmediate` (Node, Bun),
 * else a `MessageChannel` (browsers, workers, Deno), else, on a host with neither, a timer.
 */
export function macrotaskQueue(env: Host): (callback: Callback) => void {
  const { setImmediate, MessageChannel: Channel, setTimeout } = env;
  if (typeof setImmediate === 'function') return (callback) => void setImmediate(callback);
  if (typeof Channel === 'function') {
    // One channel for every callback; a FIFO array with a moving head (no Array.prototype.shift).
    const pending: (Callback | undefined)[] = [];
    let head = 0;
    const { port1, port2 } = new Channel();
    const port = port1 as MessagePort & { ref?(): void; unref?(): void };
    port.onmessage = () => {
      const callback = pending[head]!;
      pending[head++] = undefined;
      if (head === pending.length) {
        pending.length = head = 0;
        port.unref?.(); // Node: an idle port must not keep the process alive
      }
      callback();
    };
    port.unref?.();
    return (callback) => {
      if (pending.length === 0) port.ref?.();
      pending.push(callback);
      port2.postMessage(null);
    };
  }
  return (callback) => void setTimeout!(callback, 0);
}

/** Runs `callback` in a later macrotask, after timers and I/O that are due. */
export const queueMacrotask = macrotaskQueue(host);

const hostScheduler = host.scheduler;

/** One turn of the event loop: the browser's `scheduler.yield()` where it exists, else one macrotask. */
export function hostYield(): Promise<void> {
  if (typeof hostScheduler?.yield === 'function') return hostScheduler.yield();
  return new Promise<void>((resolve) => queueMacrotask(resolve));
}
