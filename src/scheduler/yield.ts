import { timerDelay, waitOptionsError } from '../internal/waiter.js';
import { invalid } from '../internal/validate.js';
import { hostYield } from '../internal/macrotask.js';
import { rejected } from '../internal/promise.js';

/**
 * Gives the event loop a turn: resolves in a later macrotask, so a loop that awaits it between chunks of work lets
 * timers, I/O and (in browsers) input and rendering in. Uses `scheduler.yield()` where the browser has it, else
 * `setImmediate` (Node) or a `MessageChannel`; never a clamped `setTimeout(0)`. Unlike a {@link Scheduler} yield point
 * it always costs a full turn (microseconds), so call it between chunks of work, not in a tight loop.
 *
 * @returns A promise that resolves after one macrotask turn.
 *
 * @example
 * ```ts
 * import { yieldNow } from 'weftjs/scheduler';
 *
 * declare const chunks: string[][];
 * declare function render(chunk: string[]): void;
 * for (const chunk of chunks) {
 *   render(chunk);
 *   await yieldNow(); // let input and painting happen between chunks
 * }
 * ```
 */
export function yieldNow(): Promise<void> {
  return hostYield();
}

/**
 * Options of {@link sleep}.
 *
 * @example
 * ```ts
 * import { sleep, type SleepOptions } from 'weftjs/scheduler';
 *
 * const opts: SleepOptions = { signal: AbortSignal.timeout(50) };
 * await sleep(10, opts);
 * ```
 */
export interface SleepOptions {
  /**
   * Aborting it rejects the sleep at once with `signal.reason` and clears the timer.
   *
   * @example
   * ```ts
   * import { sleep } from 'weftjs/scheduler';
   *
   * const controller = new AbortController();
   * setTimeout(() => controller.abort(), 10);
   * await sleep(60_000, { signal: controller.signal }).catch(() => console.log('woken early'));
   * ```
   */
  signal?: AbortSignal | undefined;
}

/**
 * Resolves after `ms` milliseconds; rejects at once with `signal.reason` when the signal aborts (or already has).
 * `Infinity` sleeps until the signal aborts; delays above 2^31-1 ms (about 24.8 days) are capped there.
 *
 * @param ms - A non-negative number of milliseconds.
 * @param opts - `signal`.
 * @returns A promise that resolves after `ms` milliseconds. It rejects (never throws) on bad arguments.
 *
 * @example Polling with a way out
 * ```ts
 * import { sleep } from 'weftjs/scheduler';
 *
 * declare function ready(): boolean;
 * const controller = new AbortController();
 * while (!ready()) await sleep(100, { signal: controller.signal });
 * ```
 */
export function sleep(ms: number, opts?: SleepOptions): Promise<void> {
  if (typeof ms !== 'number') {
    return rejected(invalid('sleep', 'ms must be a non-negative number', ms));
  }
  if (!(ms >= 0)) return rejected(invalid('sleep', 'ms must be a non-negative number', ms, true));
  const error = waitOptionsError('sleep', opts);
  if (error !== undefined) return rejected(error);
  const signal = opts?.signal;
  return new Promise<void>((resolve) => new Sleeper(ms, signal, resolve));
}

/** A pending sleep: its own abort listener; the timer callback takes it as argument (no closures). */
class Sleeper {
  readonly #timer: unknown;

  constructor(
    ms: number,
    readonly signal: AbortSignal | undefined,
    readonly resolve: (value: void | PromiseLike<void>) => void,
  ) {
    signal?.addEventListener('abort', this);
    if (ms !== Infinity) this.#timer = setTimeout(wake, timerDelay(ms), this);
  }

  handleEvent(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer as number);
    this.signal!.removeEventListener('abort', this);
    this.resolve(rejected(this.signal!.reason));
  }
}

function wake(sleeper: Sleeper): void {
  sleeper.signal?.removeEventListener('abort', sleeper);
  sleeper.resolve();
}
