/**
 * What an exposed function sees as `this`.
 *
 * @example Stopping early when the task is cancelled
 * ```ts
 * import { expose, type TaskContext } from 'weftjs/worker';
 *
 * expose({
 *   async crawl(this: TaskContext, urls: string[]) {
 *     const pages: string[] = [];
 *     for (const url of urls) {
 *       const response = await fetch(url, { signal: this.signal });
 *       pages.push(await response.text());
 *     }
 *     return pages;
 *   },
 * });
 * ```
 */
export interface TaskContext {
  /**
   * Aborted when the caller aborts the task's signal, when its timeout (or the pool's `taskTimeout`) expires, or,
   * for a stream, when the consumer stops early. Its `reason` is the caller's abort reason or a `DOMException` named
   * `TimeoutError`. Cancellation is cooperative: a function that ignores it is terminated with its worker after the
   * pool's `abortGrace`.
   *
   * @example Checking between chunks of synchronous work
   * ```ts
   * import { expose, type TaskContext } from 'weftjs/worker';
   *
   * expose({
   *   async sum(this: TaskContext, n: number) {
   *     let total = 0;
   *     for (let i = 0; i < n; i++) {
   *       total += i;
   *       if (i % 1_000_000 === 0) {
   *         await new Promise((resolve) => setImmediate(resolve)); // let the abort message in
   *         this.signal.throwIfAborted();
   *       }
   *     }
   *     return total;
   *   },
   * });
   * ```
   */
  readonly signal: AbortSignal;
}

/** The context of one task; its AbortController is created only when the function reads `signal`. */
export class Context implements TaskContext {
  private controller: AbortController | undefined = undefined;
  private reason: unknown = undefined;
  /** True once the task was cancelled (or its stream stopped). */
  aborted = false;
  /** When the function was called, from `performance.now()`. */
  start = 0;
  /** Stream state: values it may still send, and the wake-up of a producer waiting for credit. */
  credit = 0;
  wake: (() => void) | undefined = undefined;
  /** Set when a value the stream yielded could not be sent: the stream ends with this error. */
  failure: unknown = undefined;

  constructor(readonly slot: number) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
    this.resume();
  }

  grant(values: number): void {
    this.credit += values;
    this.resume();
  }

  private resume(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
