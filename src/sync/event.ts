import { QueueWaiter, timeoutError, waitOptionsError } from '../internal/waiter.js';
import { resolved } from '../internal/promise.js';
import { WaitQueue } from '../internal/wait-queue.js';
import type { WaitOptions } from '../types.js';

class EventWaiter extends QueueWaiter<void, EventWaiter> {
  get operation(): string {
    return 'Event.wait';
  }
}

/**
 * A flag that tasks can wait for, like Python's `asyncio.Event`: {@link Event.set} wakes every waiter and lets
 * later waits pass at once until {@link Event.clear} resets it.
 *
 * Use it for one-to-many signals: "the config is loaded", "the connection is up", "shutting down".
 * Note that the name shadows the DOM's global `Event` in the module that imports it; import it under another name
 * (`import { Event as Flag } from 'weftjs/sync'`) if you need both.
 *
 * @example Waiting until something is ready
 * ```ts
 * import { Event } from 'weftjs/sync';
 *
 * const ready = new Event();
 * setTimeout(() => ready.set(), 100);
 * await ready.wait({ timeout: 5_000 });
 * console.log(ready.isSet); // true
 * ```
 */
export class Event {
  #flag = false;
  readonly #queue = new WaitQueue<EventWaiter>();

  /**
   * True between {@link Event.set} and {@link Event.clear}.
   *
   * @example
   * ```ts
   * import { Event } from 'weftjs/sync';
   *
   * const loaded = new Event();
   * loaded.set();
   * console.log(loaded.isSet); // true
   * ```
   */
  get isSet(): boolean {
    return this.#flag;
  }

  /**
   * Number of callers waiting.
   *
   * @example
   * ```ts
   * import { Event } from 'weftjs/sync';
   *
   * const go = new Event();
   * const waiting = go.wait();
   * console.log(go.pending); // 1
   * go.set();
   * await waiting;
   * ```
   */
  get pending(): number {
    return this.#queue.length;
  }

  /**
   * Sets the flag and wakes every waiter, in the order they arrived. Idempotent.
   *
   * @example
   * ```ts
   * import { Event } from 'weftjs/sync';
   *
   * const done = new Event();
   * const waiting = done.wait();
   * done.set();
   * await waiting;
   * ```
   */
  set(): void {
    if (this.#flag) return;
    this.#flag = true;
    for (let waiter = this.#queue.shift(); waiter !== undefined; waiter = this.#queue.shift())
      waiter.grant(undefined);
  }

  /**
   * Resets the flag, so later waits block until the next {@link Event.set}. Waiters already woken are not affected.
   *
   * @example
   * ```ts
   * import { Event } from 'weftjs/sync';
   *
   * const open = new Event();
   * open.set();
   * open.clear();
   * console.log(open.isSet); // false
   * ```
   */
  clear(): void {
    this.#flag = false;
  }

  /**
   * Resolves once the flag is set (at once if it is set now).
   *
   * @param opts - `signal` to abort the wait (rejects with `signal.reason`), `timeout` in milliseconds (rejects with
   *   a `DOMException` named `TimeoutError`; `0`: only if set now).
   * @returns A promise that resolves when the event is set.
   *
   * @example Giving up after a while
   * ```ts
   * import { Event } from 'weftjs/sync';
   *
   * const connected = new Event();
   * try {
   *   await connected.wait({ timeout: 2_000 });
   * } catch (error) {
   *   if (error instanceof DOMException && error.name === 'TimeoutError') console.log('still offline');
   * }
   * ```
   */
  wait(opts?: WaitOptions): Promise<void> {
    const error = waitOptionsError('Event.wait', opts);
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- signal.reason or an option error
    if (error !== undefined) return Promise.reject(error);
    if (this.#flag) return resolved();
    if (opts?.timeout === 0) return Promise.reject(timeoutError('Event.wait', 0));
    const waiter = new EventWaiter(this.#queue);
    this.#queue.push(waiter);
    return waiter.wait(opts?.signal, opts?.timeout);
  }
}
