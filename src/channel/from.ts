import { invalid } from '../internal/validate.js';
import type { Channel } from './channel.js';
import { Stage, type StageOptions } from './stage.js';

/**
 * A channel fed from an iterable or async iterable (an array, a generator, a Node stream, a `fetch` body...): a
 * source stage for a pipeline. Values are sent in order, with backpressure: the source is pulled only as fast as
 * the channel's consumers take values (plus the output's `capacity`). Values of a sync iterable that are promises
 * are awaited first, as in `for await`.
 *
 * The source is first pulled on a later microtask, never during this call. When it is exhausted the channel
 * closes; if it throws, the channel is closed with that error (consumers get it after draining). Aborting
 * `options.signal`, or closing the returned channel, stops pulling and calls the source iterator's `return()`, so
 * generators run their `finally` blocks.
 *
 * @param source - The values to send.
 * @param options - Output `capacity` (default 0) and a cancelling `signal`; see {@link StageOptions}.
 * @returns The output channel.
 * @throws TypeError if `source` is not iterable, or an option has the wrong type.
 *
 * @example Streaming an async generator through a channel
 * ```ts
 * import { channelFrom } from 'weftjs/channel';
 *
 * async function* pages() {
 *   for (let page = 1; page <= 3; page++) yield `page ${page}`;
 * }
 *
 * for await (const page of channelFrom(pages(), { capacity: 2 })) console.log(page);
 * ```
 */
export function channelFrom<T>(
  source: AsyncIterable<T> | Iterable<T | PromiseLike<T>>,
  options?: StageOptions,
): Channel<T> {
  if (!isIterable(source)) {
    throw invalid('channelFrom', 'source must be an iterable or an async iterable', source);
  }
  const stage = new Stage<T>('channelFrom', options);
  void pump(source, stage);
  return stage.output;
}

function isIterable(value: unknown): value is AsyncIterable<unknown> | Iterable<unknown> {
  return (
    value !== null &&
    value !== undefined &&
    (typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function' ||
      typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function')
  );
}

async function pump<T>(
  source: AsyncIterable<T> | Iterable<T | PromiseLike<T>>,
  stage: Stage<T>,
): Promise<void> {
  const { output, signal } = stage;
  try {
    await Promise.resolve(); // never run the source's code inside channelFrom()
    signal.throwIfAborted();
    // A halted stage closes its output, so a pending send rejects and the loop calls the iterator's return().
    for await (const value of source) await output.send(value);
    stage.finish();
  } catch (error) {
    stage.finish(error);
  }
}
