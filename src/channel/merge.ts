import { invalid } from '../internal/validate.js';
import { Channel } from './channel.js';
import { recv, select } from './select.js';
import type { RecvCase } from './types.js';
import { Stage, type StageOptions } from './stage.js';

/**
 * The value type of a channel type: `ChannelValue<Channel<number>>` is `number`; for a union of channel types it
 * is the union of their value types.
 *
 * @example
 * ```ts
 * import { Channel, type ChannelValue } from 'weftjs/channel';
 *
 * const prices = new Channel<number>();
 * const latest: ChannelValue<typeof prices> = 9.99;
 * ```
 */
export type ChannelValue<C> = C extends Channel<infer T> ? T : never;

/**
 * Fan-in: one channel that receives every value of every input, as they arrive. A single forwarding loop waits on
 * all inputs with {@link select}, so the choice among inputs that have values ready is fair (random), per-input
 * order is kept, and the stage holds at most one value in hand (plus the output's `capacity`).
 *
 * The output closes once every input is closed and drained. An input closed with a reason makes the output close
 * with that reason. Aborting `options.signal`, or closing the output, stops the forwarding at once; the inputs
 * are not closed (their producers own them) and nothing more is taken from them.
 *
 * @param inputs - The channels to merge; their value types may differ.
 * @param options - Output `capacity` (default 0) and a cancelling `signal`; see {@link StageOptions}.
 * @returns The output channel.
 * @throws TypeError if `inputs` is not an array of channels, or an option has the wrong type.
 *
 * @example Collecting results from several workers
 * ```ts
 * import { Channel, mergeChannels } from 'weftjs/channel';
 *
 * const fromA = new Channel<string>(4);
 * const fromB = new Channel<string>(4);
 * const all = mergeChannels([fromA, fromB]);
 * fromA.trySend('a1');
 * fromB.trySend('b1');
 * fromA.close();
 * fromB.close();
 * for await (const result of all) console.log(result); // 'a1' and 'b1', in either order
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- accepts channels of any value type
export function mergeChannels<const C extends readonly (Channel<any> | Channel<never>)[]>(
  inputs: C,
  options?: StageOptions,
): Channel<ChannelValue<C[number]>> {
  if (!Array.isArray(inputs)) {
    throw invalid('mergeChannels', 'inputs must be an array of Channels', inputs);
  }
  inputs.forEach((input: unknown, i) => {
    if (!(input instanceof Channel)) {
      throw invalid('mergeChannels', `inputs[${i}] must be a Channel`, input);
    }
  });
  const stage = new Stage<ChannelValue<C[number]>>('mergeChannels', options);
  void forward(inputs as readonly Channel<ChannelValue<C[number]>>[], stage);
  return stage.output;
}

async function forward<T>(inputs: readonly Channel<T>[], stage: Stage<T>): Promise<void> {
  const { output, signal } = stage;
  // The inputs' cases, then one that makes the select reject when the stage halts.
  const cases: (RecvCase<T> | RecvCase<never>)[] = [...inputs.map((input) => recv(input)), stage.stopCase];
  try {
    while (cases.length > 1) {
      signal.throwIfAborted();
      const result = await select(cases);
      if (result.ok) await output.send(result.value);
      else cases.splice(result.index, 1); // that input is closed and drained
    }
    stage.finish();
  } catch (error) {
    stage.finish(error);
  }
}
