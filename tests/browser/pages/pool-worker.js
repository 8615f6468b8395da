// The pool worker of the browser tests: a module Web Worker that imports weftjs/worker from the built package.
import { expose } from '../../../dist/worker/index.js';
import { burn } from './burn.js';

const id = crypto.randomUUID();
let lastAbort = 'none';

const now = () => performance.timeOrigin + performance.now();

expose({
  echo(value) {
    return value;
  },
  whoami() {
    return id;
  },
  burn(iterations) {
    const start = now();
    const value = burn(iterations);
    return { value, worker: id, start, end: now() };
  },
  async *count(n) {
    for (let i = 1; i <= n; i++) yield i;
  },
  // Resolves once the task is cancelled, recording what the worker saw.
  waitForAbort() {
    return new Promise((resolve) => {
      this.signal.addEventListener(
        'abort',
        () => {
          lastAbort = this.signal.reason?.name ?? String(this.signal.reason);
          resolve('aborted');
        },
        { once: true },
      );
    });
  },
  fail(message) {
    throw new RangeError(message);
  },
  // Resolves with value after ms, or rejects with the abort reason if cancelled first.
  sleep(ms, value) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(resolve, ms, value);
      this.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          reject(this.signal.reason);
        },
        { once: true },
      );
    });
  },
  lastAbort() {
    return lastAbort;
  },
  // Ignores cancellation: only terminating the worker stops it.
  spin(ms) {
    const end = performance.now() + ms;
    while (performance.now() < end);
    return 'spun';
  },
  crashLater(message) {
    setTimeout(() => {
      throw new TypeError(message);
    }, 0);
    return new Promise(() => {});
  },
  rejectLater(message) {
    void Promise.reject(new RangeError(message));
    return new Promise(() => {});
  },
  closeSelf() {
    close();
    return 'still running after close()';
  },
});
