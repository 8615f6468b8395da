/**
 * Go-style channels for async JavaScript: typed FIFO pipes with backpressure between producers and consumers,
 * `select` over several channel operations, and small helpers to build pipelines (sources, fan-in, bounded
 * concurrent stages, tickers). Browser-safe: no `node:` imports.
 *
 * @example
 * ```ts
 * import { Channel, recv, select } from 'weftjs/channel';
 *
 * const jobs = new Channel<number>(16);
 * const quit = new Channel<void>();
 * void (async () => {
 *   for (let i = 0; i < 3; i++) await jobs.send(i);
 *   quit.close();
 * })();
 * for (;;) {
 *   const result = await select([recv(jobs), recv(quit)]);
 *   if (result.index === 1) break;
 *   if (result.ok) console.log('job', result.value);
 * }
 * ```
 *
 * @module weftjs/channel
 */
export { ChannelClosedError } from '../errors.js';
export type { WaitOptions } from '../types.js';
export { Channel } from './channel.js';
export { recv, select, send } from './select.js';
export type * from './types.js';
export { channelFrom } from './from.js';
export { mapChannel, type MapChannelContext, type MapChannelOptions } from './map.js';
export { mergeChannels, type ChannelValue } from './merge.js';
export type { StageOptions } from './stage.js';
export { ticker, type TickerOptions } from './ticker.js';
