import { invalid } from '../internal/validate.js';
import { Channel } from './channel.js';
import { channelCore, checkSignalOptions } from './core.js';

/**
 * Options of {@link ticker}.
 *
 * @example
 * ```ts
 * import { ticker, type TickerOptions } from 'weftjs/channel';
 *
 * const options: TickerOptions = { signal: AbortSignal.timeout(10_000) };
 * const ticks = ticker(1000, options);
 * ```
 */
export interface TickerOptions {
  /**
   * Stops the ticker: the timer is cleared and the channel is closed with `signal.reason`.
   *
   * @example
   * ```ts
   * import { ticker } from 'weftjs/channel';
   *
   * const controller = new AbortController();
   * const ticks = ticker(250, { signal: controller.signal });
   * controller.abort();
   * ```
   */
  signal?: AbortSignal | undefined;
}

/**
 * A channel that receives the time (`Date.now()`) every `intervalMs` milliseconds, like Go's `time.Ticker`. Its
 * capacity is 1 and it drops ticks a slow receiver has not taken (`'drop-newest'`), so ticks never pile up and a
 * receiver that falls behind simply skips some.
 *
 * The ticker runs until it is stopped: abort `options.signal` (the channel closes with `signal.reason`) or close the
 * channel yourself (it closes quietly). Either way the interval timer is cleared at once. A ticker nobody stops
 * keeps its timer, and therefore a Node process, alive.
 *
 * Combined with {@link select} it makes heartbeats and periodic flushes easy.
 *
 * @param intervalMs - Milliseconds between ticks; a positive finite number.
 * @param options - A `signal` that stops the ticker.
 * @returns The channel of tick times.
 * @throws TypeError if `intervalMs` is not a number or an option has the wrong type; RangeError if it is not
 *   positive and finite.
 *
 * @example Flushing a batch every second or when it is full
 * ```ts
 * import { Channel, recv, select, ticker } from 'weftjs/channel';
 *
 * const items = new Channel<string>(100);
 * const ticks = ticker(1000);
 * let batch: string[] = [];
 * for (;;) {
 *   const event = await select([recv(items), recv(ticks)]);
 *   if (event.index === 0 && event.ok) batch.push(event.value);
 *   if (event.index === 1 || batch.length >= 50) {
 *     console.log('flush', batch.length);
 *     batch = [];
 *   }
 *   if (event.index === 0 && !event.ok) break; // items closed
 * }
 * ticks.close();
 * ```
 */
export function ticker(intervalMs: number, options?: TickerOptions): Channel<number> {
  if (typeof intervalMs !== 'number') {
    throw invalid('ticker', 'intervalMs must be a positive number', intervalMs);
  }
  if (!(intervalMs > 0 && intervalMs !== Infinity)) {
    throw invalid('ticker', 'intervalMs must be a positive finite number', intervalMs, true);
  }
  const signal = options === undefined ? undefined : checkSignalOptions('ticker', options).signal;
  const ticks = new Channel<number>(1, { overflow: 'drop-newest' });
  if (signal?.aborted === true) {
    ticks.close(signal.reason);
    return ticks;
  }
  const timer = setInterval(() => ticks.trySend(Date.now()), intervalMs);
  const stop = (): void => {
    ticks.close(signal!.reason);
  };
  signal?.addEventListener('abort', stop, { once: true });
  channelCore.onClose(ticks, () => {
    clearInterval(timer);
    signal?.removeEventListener('abort', stop);
  });
  return ticks;
}
