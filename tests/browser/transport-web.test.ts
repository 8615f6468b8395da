// Unit tests of the browser transport (src/pool/transport-web.ts) under Node, with a stand-in for the Web Worker
// class: the paths a real browser rarely takes (a message that cannot be deserialized, events after the end) and
// the checks on worker locations. browser.test.ts runs the same transport in Chromium.
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { INIT_KEY, PROTOCOL_VERSION, type WorkerInit } from '../../src/pool/protocol.js';
import { EXIT_KEY } from '../../src/pool/protocol-web.js';
import type { WorkerEvents } from '../../src/pool/transport.js';
import { webTransport } from '../../src/pool/transport-web.js';
import { flush } from '../helpers.js';

/** Records what the transport does to a Web Worker, and lets a test play the worker's events. */
class FakeWorker {
  static last: FakeWorker | undefined;
  readonly posted: unknown[] = [];
  terminated = 0;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onerror: ((event: Event) => void) | null = null;
  onmessageerror: ((event: Event) => void) | null = null;

  constructor(
    readonly url: URL | string,
    readonly options: WorkerOptions,
  ) {
    FakeWorker.last = this;
  }

  postMessage(message: unknown): void {
    this.posted.push(message);
  }

  terminate(): void {
    this.terminated++;
  }
}

function recorder() {
  const calls: [string, unknown][] = [];
  const events: WorkerEvents = {
    onMessage: (message) => calls.push(['message', message]),
    onError: (error) => calls.push(['error', error]),
    onExit: (code) => calls.push(['exit', code]),
  };
  return { calls, events };
}

const init = (): WorkerInit => ({ version: PROTOCOL_VERSION, slots: new SharedArrayBuffer(16) });

function spawn() {
  vi.stubGlobal('Worker', FakeWorker);
  const { calls, events } = recorder();
  const url = new URL('https://example.test/w.js');
  const handle = webTransport.spawn(url, init(), { name: 'weft-pool #1' }, events);
  return { handle, calls, worker: FakeWorker.last! };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('the Web Worker transport', () => {
  it('starts a module worker with the thread name and sends the start-up data first', () => {
    const { worker } = spawn();
    expect(worker.options).toEqual({ type: 'module', name: 'weft-pool #1' });
    expect(worker.posted).toHaveLength(1);
    expect((worker.posted[0] as Record<string, WorkerInit>)[INIT_KEY]!.version).toBe(PROTOCOL_VERSION);
  });

  it('passes protocol messages on, and ignores other data', () => {
    const { calls, worker } = spawn();
    worker.onmessage!({ data: [11, 0, 0, 'value', 1] });
    worker.onmessage!({ data: 'noise' });
    worker.onmessage!({ data: null });
    expect(calls).toEqual([['message', [11, 0, 0, 'value', 1]]]);
  });

  it("reports a worker's own end with its cause, terminates it, and reports the exit after the caller's turn", async () => {
    const { calls, worker } = spawn();
    const cause = { weftError: 1, name: 'TypeError', message: 'boom', stack: undefined, props: undefined };
    worker.onmessage!({ data: { [EXIT_KEY]: { code: 1, error: cause } } });
    expect(worker.terminated).toBe(1);
    expect(calls).toHaveLength(1);
    const error = calls[0]![1] as TypeError;
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('boom');
    await flush();
    expect(calls.slice(1)).toEqual([['exit', 1]]);
    // Whatever the dead worker still sends is ignored: its handlers are gone.
    expect(worker.onmessage).toBeNull();
    expect(worker.onerror).toBeNull();
  });

  it('handles an error event (and keeps it from reaching the page as uncaught)', async () => {
    const { calls, worker } = spawn();
    const event = new Event('error', { cancelable: true });
    Object.defineProperty(event, 'message', { value: 'Uncaught RangeError: bad' });
    worker.onerror!(event);
    expect(event.defaultPrevented).toBe(true);
    await flush();
    expect(calls.map(([kind]) => kind)).toEqual(['error', 'exit']);
    expect((calls[0]![1] as Error).message).toBe('Uncaught RangeError: bad');
  });

  it('explains an error event without a message as a script that did not load', async () => {
    const { calls, worker } = spawn();
    worker.onerror!(new Event('error', { cancelable: true }));
    await flush();
    expect((calls[0]![1] as Error).message).toContain('did not load as a module worker');
    expect(calls[1]).toEqual(['exit', 1]);
  });

  it('treats a message that cannot be deserialized as the end of the worker (nothing waits forever)', async () => {
    const { calls, worker } = spawn();
    worker.onmessageerror!(new Event('messageerror'));
    await flush();
    expect((calls[0]![1] as DOMException).name).toBe('DataCloneError');
    expect(calls[1]).toEqual(['exit', 1]);
    expect(worker.terminated).toBe(1);
  });

  it('ends a worker once: terminate after a crash, or twice, reports one exit', async () => {
    const { handle, calls, worker } = spawn();
    handle.terminate();
    handle.terminate();
    worker.onmessage?.({ data: { [EXIT_KEY]: { code: 0, error: 'late' } } });
    await flush();
    expect(calls).toEqual([['exit', 1]]);
    expect(worker.terminated).toBe(1);
  });

  it('posts messages with their transfer list; ref and unref are no-ops', () => {
    const { handle, worker } = spawn();
    const spy = vi.spyOn(worker, 'postMessage');
    const buffer = new ArrayBuffer(8);
    handle.post([0, 1, 0, 0, [buffer]], [buffer]);
    handle.post([1, 1, 'reason']);
    expect(spy.mock.calls).toEqual([
      [[0, 1, 0, 0, [buffer]], [buffer]],
      [[1, 1, 'reason'], []],
    ]);
    handle.ref();
    handle.unref();
  });
});

describe('worker locations in a browser', () => {
  it('takes a URL, an absolute URL string, or a path from the root of the page', () => {
    vi.stubGlobal('Worker', FakeWorker);
    vi.stubGlobal('location', { href: 'https://example.test/app/index.html' });
    const url = new URL('https://example.test/w.js');
    expect(webTransport.resolve(url)).toBe(url);
    expect(String(webTransport.resolve('https://cdn.test/pool/w.js'))).toBe('https://cdn.test/pool/w.js');
    expect(String(webTransport.resolve('/workers/w.js'))).toBe('https://example.test/workers/w.js');
    expect(String(webTransport.resolve('blob:https://example.test/1234'))).toBe(
      'blob:https://example.test/1234',
    );
  });

  it('rejects anything else with a TypeError naming the value', () => {
    vi.stubGlobal('Worker', FakeWorker);
    vi.stubGlobal('location', { href: 'https://example.test/app/index.html' });
    fc.assert(
      fc.property(
        fc.oneof(
          fc.constantFrom('./w.js', 'w.js', '../w.js', ''),
          fc.integer(),
          fc.constant(null),
          fc.constant(undefined),
          fc.object(),
        ),
        (value) => {
          expect(() => webTransport.resolve(value as string)).toThrow(TypeError);
          expect(() => webTransport.resolve(value as string)).toThrow(/^WorkerPool: worker must be a URL/);
        },
      ),
    );
  });

  it('says so where there are no Web Workers at all', () => {
    vi.stubGlobal('Worker', undefined);
    expect(() => webTransport.resolve('https://example.test/w.js')).toThrow(
      'WorkerPool: this runtime has neither Node.js worker_threads nor Web Workers',
    );
  });

  it('defaults to one thread per core as the browser reports them', () => {
    vi.stubGlobal('navigator', { hardwareConcurrency: 6 });
    expect(webTransport.defaultThreads()).toBe(6);
    vi.stubGlobal('navigator', {});
    expect(webTransport.defaultThreads()).toBe(1);
  });
});
