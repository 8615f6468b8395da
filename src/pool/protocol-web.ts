/**
 * The two messages the browser transport adds to the pool protocol. A Web Worker gets no start-up data, so the pool
 * sends `{ [INIT_KEY]: WorkerInit }` as its first message; and the page hears nothing when a worker ends itself
 * (`close()`) or hits an uncaught error it keeps running after, so the worker says so before it stops.
 */

/** Key of the worker's last message: `{ [EXIT_KEY]: ExitNotice }`. */
export const EXIT_KEY = 'weftPoolExit';

/** Why a worker is about to stop on its own. */
export interface ExitNotice {
  /** 0 after `close()`, 1 after an uncaught error or unhandled rejection. */
  code: number;
  /** The error, flattened by `serializeError`. */
  error: unknown;
}
