import { assertFunction, invalid, positiveIntegerError } from '../internal/validate.js';
import { rejected } from '../internal/promise.js';
import { Channel } from './channel.js';
import { Stage, type StageOptions } from './stage.js';

/**
 * Options of {@link mapChannel}.
 *
 * @example
 * ```ts
 * import type { MapChannelOptions } from 'weftjs/channel';
 *
 * const options: MapChannelOptions = { concurrency: 8, ordered: false, capacity: 16 };
 * ```
 */
export interface MapChannelOptions extends StageOptions {
  /**
   * How many calls of `fn` may run at once. A positive integer; default `1`.
   *
   * @example
   * ```ts
   * import { Channel, mapChannel } from 'weftjs/channel';
   *
   * const urls = new Channel<string>();
   * const bodies = mapChannel(urls, (url) => fetch(url).then((r) => r.text()), { concurrency: 4 });
   * ```
   */
  concurrency?: number | undefined;
  /**
   * `true` (the default): results are sent in input order, like `Readable.prototype.map` in Node, so a slow value
   * holds back the results behind it (never more than `concurrency` values are in flight). `false`: each result is
   * sent as soon as it is ready, which keeps all `concurrency` slots busy when durations vary.
   *
   * @example
   * ```ts
   * import { Channel, mapChannel } from 'weftjs/channel';
   *
   * const ids = new Channel<number>();
   * const users = mapChannel(ids, async (id) => ({ id }), { concurrency: 8, ordered: false });
   * ```
   */
  ordered?: boolean | undefined;
}

/**
 * What {@link mapChannel} passes to `fn` besides the value.
 *
 * @example
 * ```ts
 * import { Channel, mapChannel, type MapChannelContext } from 'weftjs/channel';
 *
 * async function download(url: string, { signal }: MapChannelContext): Promise<string> {
 *   const response = await fetch(url, { signal });
 *   return response.text();
 * }
 * const pages = mapChannel(new Channel<string>(), download, { concurrency: 4 });
 * ```
 */
export interface MapChannelContext {
  /**
   * Aborts when the stage is cancelled or fails; pass it on to cancellable work.
   *
   * @example
   * ```ts
   * import { Channel, mapChannel } from 'weftjs/channel';
   *
   * const urls = new Channel<string>();
   * const pages = mapChannel(urls, async (url, { signal }) => (await fetch(url, { signal })).text());
   * ```
   */
  readonly signal: AbortSignal;
}

/**
 * A bounded-concurrency mapping stage: receives values from `input`, runs `fn` on up to `concurrency` of them at a
 * time, and sends the results to the returned channel, in input order unless `ordered: false`. Backpressure flows
 * through: while the output is full, no new input is taken.
 *
 * The output closes once `input` is closed and every result has been sent. If `fn` throws or rejects, the stage
 * stops: `signal` aborts for the calls still running, their results are discarded, and the output is closed with
 * that error. An input closed with a reason ends the stage the same way, after the results of the values received
 * before it. Aborting `options.signal`, or closing the output, stops the stage at once (no more input is taken;
 * values being processed are discarded). The input channel is never closed by the stage.
 *
 * @param input - The channel to read from.
 * @param fn - The mapping, called with each value and a {@link MapChannelContext}; may return a promise.
 * @param options - `concurrency` (default 1), `ordered` (default `true`), output `capacity` (default 0), `signal`.
 * @returns The output channel.
 * @throws TypeError if `input` is not a channel, `fn` not a function, or an option has the wrong type;
 *   RangeError if `concurrency` is not a positive integer.
 *
 * @example Resizing images four at a time
 * ```ts
 * import { channelFrom, mapChannel } from 'weftjs/channel';
 *
 * const files = channelFrom(['a.png', 'b.png', 'c.png']);
 * const resized = mapChannel(files, async (file) => `${file} resized`, { concurrency: 4 });
 * for await (const result of resized) console.log(result); // in input order
 * ```
 */
export function mapChannel<T, R>(
  input: Channel<T>,
  fn: (value: T, context: MapChannelContext) => R | PromiseLike<R>,
  options?: MapChannelOptions,
): Channel<R> {
  if (!(input instanceof Channel)) {
    throw invalid('mapChannel', 'input must be a Channel', input);
  }
  assertFunction('mapChannel', 'fn', fn);
  let concurrency = 1;
  let ordered = true;
  if (options !== undefined && options !== null && typeof options === 'object') {
    if (options.concurrency !== undefined) {
      const error = positiveIntegerError('mapChannel', 'concurrency', options.concurrency);
      if (error !== undefined) throw error;
      concurrency = options.concurrency;
    }
    if (options.ordered !== undefined) {
      if (typeof options.ordered !== 'boolean') {
        throw invalid('mapChannel', 'ordered must be a boolean', options.ordered);
      }
      ordered = options.ordered;
    }
  }
  const stage = new Stage<R>('mapChannel', options);
  if (ordered && concurrency > 1) void runOrdered(input, fn, concurrency, stage);
  else void runUnordered(input, fn, concurrency, stage);
  return stage.output;
}

type MapFn<T, R> = (value: T, context: MapChannelContext) => R | PromiseLike<R>;

function call<T, R>(fn: MapFn<T, R>, value: T, context: MapChannelContext): Promise<R> {
  try {
    return Promise.resolve(fn(value, context));
  } catch (error) {
    return rejected(error);
  }
}

/** `concurrency` workers, each receiving, mapping and sending one value at a time. */
async function runUnordered<T, R>(input: Channel<T>, fn: MapFn<T, R>, concurrency: number, stage: Stage<R>) {
  const { output, signal } = stage;
  const context: MapChannelContext = { signal };
  const cases = stage.inputCases(input);
  const work = async (): Promise<void> => {
    for (let step = await stage.receive(cases); !step.done; step = await stage.receive(cases)) {
      let result: R;
      try {
        result = await call(fn, step.value, context);
      } catch (error) {
        stage.finish(error); // stop the other workers at once
        throw error;
      }
      await output.send(result); // rejects once the stage has halted: it closes its output
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < concurrency; i++) workers.push(work());
  const outcomes = await Promise.allSettled(workers);
  const failure = outcomes.find((outcome) => outcome.status === 'rejected');
  stage.finish(failure?.reason);
}

/**
 * A reader starts `fn` for each value as soon as one of `concurrency` slots is free and queues the pending result;
 * a writer sends the results in that order and frees a slot per result sent.
 */
async function runOrdered<T, R>(input: Channel<T>, fn: MapFn<T, R>, concurrency: number, stage: Stage<R>) {
  const { output, signal } = stage;
  const context: MapChannelContext = { signal };
  const slots = new Channel<void>(concurrency);
  for (let i = 0; i < concurrency; i++) slots.trySend(undefined);
  // Boxed, so that no promise machinery adopts the pending result on its way through the channel.
  const pending = new Channel<{ result: Promise<R> }>(Infinity);

  const read = async (): Promise<void> => {
    const slotCases = stage.inputCases(slots);
    const inputCases = stage.inputCases(input);
    try {
      for (;;) {
        await stage.receive(slotCases);
        const step = await stage.receive(inputCases);
        if (step.done) break;
        const result = call(fn, step.value, context);
        // Fail the stage as soon as any call fails, not when the writer reaches it: the calls ahead of it may be
        // waiting for the abort. This handler also keeps the rejection from being reported as unhandled.
        result.catch((error: unknown) => stage.finish(error));
        pending.trySend({ result });
      }
      pending.close();
    } catch (error) {
      pending.close(error); // the writer sends what came before, then fails with it
    }
  };

  void read();
  const pendingCases = stage.inputCases(pending);
  try {
    for (let step = await stage.receive(pendingCases); !step.done; step = await stage.receive(pendingCases)) {
      await output.send(await step.value.result);
      slots.trySend(undefined);
    }
    stage.finish();
  } catch (error) {
    stage.finish(error);
  }
}
