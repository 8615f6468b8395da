/**
 * Wiring of `{ signal, timeout }` to whatever they cancel (a waiter, a scheduler task, a scope). The listener is the
 * link object itself (`handleEvent`) and the timer callback is a module function taking the link as argument, so
 * arming allocates one small object and no closures; the link always removes its listener and clears its timer,
 * whichever way the wait ends.
 */
import type { WaitOptions } from '../types.js';
import { ignore, pendingPromise } from './promise.js';
import { invalid, nonNegativeNumberError } from './validate.js';
import { WaitNode, type WaitQueue } from './wait-queue.js';

/** setTimeout's largest delay; longer timeouts are capped here instead of firing at once. */
const MAX_TIMER_MS = 2_147_483_647;

/** `ms` as a `setTimeout` delay: capped at the largest one timers accept, which would otherwise fire at once. */
export function timerDelay(ms: number): number {
  return Math.min(ms, MAX_TIMER_MS);
}

/** What a {@link CancelLink} cancels on abort or timeout. */
export interface Cancellable {
  /** The name used in timeout messages, e.g. `Semaphore.acquire`. */
  readonly operation: string;
  /** Called on abort (with `signal.reason`) or timeout (with a `TimeoutError`), while the link is armed. */
  cancel(reason: unknown): void;
}

/**
 * A queued waiter settled by its owner. Subclasses add their own data (weight, value) and implement
 * {@link Waiter.cancel}, which must unlink the waiter, reject it through {@link Waiter.fail} and let the waiters
 * behind it proceed.
 *
 * Only the promise's resolve function is kept; failure resolves with a rejected promise, so a pending waiter holds
 * one function instead of two.
 */
export abstract class Waiter<T> extends WaitNode implements Cancellable {
  private settle: (value: T | PromiseLike<T>) => void = ignore;
  private link: CancelLink | null = null;

  /** The name used in timeout messages, e.g. `Semaphore.acquire`. */
  abstract get operation(): string;

  /** Called on abort or timeout while the waiter is pending. */
  abstract cancel(reason: unknown): void;

  /**
   * Creates the promise this waiter settles and arms its signal and timeout. Call once per wait; a waiter may be
   * armed again after it has been granted or failed (channels reuse one finished waiter per direction).
   */
  wait(signal: AbortSignal | undefined, timeout: number | undefined): Promise<T> {
    const { promise, resolve } = pendingPromise<T>();
    this.settle = resolve;
    this.link = linkCancel(this, signal, timeout);
    return promise;
  }

  /** Fulfils the waiter and disarms its signal and timer. */
  grant(value: T): void {
    if (this.link !== null) this.disarm();
    const settle = this.settle;
    this.settle = ignore;
    settle(value);
  }

  /** Rejects the waiter and disarms its signal and timer. */
  fail(reason: unknown): void {
    if (this.link !== null) this.disarm();
    const settle = this.settle;
    this.settle = ignore;
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the reason is the caller's (signal.reason, close reason)
    settle(Promise.reject(reason));
  }

  private disarm(): void {
    this.link!.disarm();
    this.link = null;
  }
}

/**
 * A waiter whose cancellation only takes it out of its queue (nobody behind it is held up by it), as in an event,
 * a barrier or a channel. `N` is the queue's node type, which the subclass implements.
 */
export abstract class QueueWaiter<T, N extends WaitNode> extends Waiter<T> {
  // Assigned in the constructor rather than as a parameter property, which would define the field twice.
  declare private readonly queue: WaitQueue<N>;

  constructor(queue: WaitQueue<N>) {
    super();
    this.queue = queue;
  }

  cancel(reason: unknown): void {
    this.queue.remove(this as unknown as N);
    this.fail(reason);
  }
}

/** Whether a wait with these options can end early (by abort or timeout), so that its waiter needs a way out. */
export function canCancel(opts: WaitOptions | undefined): boolean {
  if (opts === undefined) return false;
  const { signal, timeout } = opts;
  return signal !== undefined || (timeout !== undefined && timeout !== Infinity);
}

/**
 * Arms `signal` and `timeout` to cancel `target`; `null` when there is nothing to arm. Whoever holds the link must
 * {@link CancelLink.disarm} it once `target` has settled, whichever way.
 */
export function linkCancel(
  target: Cancellable,
  signal: AbortSignal | undefined,
  timeout: number | undefined,
): CancelLink | null {
  if (signal === undefined && (timeout === undefined || timeout === Infinity)) return null;
  return new CancelLink(target, signal, timeout);
}

/** The listener of one signal and the handle of one timer, both cancelling one target. */
export class CancelLink {
  timer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(
    readonly target: Cancellable,
    readonly signal: AbortSignal | undefined,
    readonly timeout: number | undefined,
  ) {
    if (signal !== undefined) signal.addEventListener('abort', this);
    if (timeout !== undefined && timeout !== Infinity) {
      this.timer = setTimeout(onTimeout, timerDelay(timeout), this);
    }
  }

  handleEvent(): void {
    this.target.cancel(this.signal!.reason);
  }

  disarm(): void {
    if (this.signal !== undefined) this.signal.removeEventListener('abort', this);
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}

function onTimeout(link: CancelLink): void {
  link.timer = undefined;
  link.target.cancel(timeoutError(link.target.operation, link.timeout!));
}

/** The rejection of a timed-out wait: a `DOMException` named `TimeoutError`, as `AbortSignal.timeout` uses. */
export function timeoutError(operation: string, ms: number): DOMException {
  return new DOMException(`${operation} timed out after ${ms} ms`, 'TimeoutError');
}

/** The default abort reason: a `DOMException` named `AbortError`, as `fetch` uses. */
export function abortError(message = 'This operation was aborted'): DOMException {
  return new DOMException(message, 'AbortError');
}

/**
 * Checks `{ signal, timeout }` for bad values only: the `TypeError` / `RangeError` naming the option, or `undefined`
 * (a signal that is already aborted passes: for calls that react to it later).
 */
export function waitOptionsTypeError(
  where: string,
  opts: WaitOptions | undefined,
): TypeError | RangeError | undefined {
  if (opts === undefined) return undefined;
  if (opts === null || typeof opts !== 'object') {
    return invalid(where, 'options must be an object', opts);
  }
  const { signal, timeout } = opts;
  if (timeout !== undefined) {
    const error = nonNegativeNumberError(
      where,
      'timeout must be a non-negative number of milliseconds',
      timeout,
    );
    if (error !== undefined) return error;
  }
  if (signal !== undefined && !isAbortSignal(signal)) {
    return invalid(where, 'signal must be an AbortSignal', signal);
  }
  return undefined;
}

/**
 * Checks `{ signal, timeout }`. Returns the error to reject with (bad option, or a signal already aborted), or
 * `undefined` when the wait may go ahead.
 */
export function waitOptionsError(where: string, opts: WaitOptions | undefined): unknown {
  const error = waitOptionsTypeError(where, opts);
  if (error !== undefined || opts === undefined) return error;
  return opts.signal?.aborted === true ? (opts.signal.reason as unknown) : undefined;
}

/** Duck-typed so that signals from another realm (a vm context, a test environment's polyfill) are accepted. */
export function isAbortSignal(value: unknown): value is AbortSignal {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AbortSignal).aborted === 'boolean' &&
    typeof (value as AbortSignal).addEventListener === 'function' &&
    typeof (value as AbortSignal).removeEventListener === 'function'
  );
}
