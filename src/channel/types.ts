/**
 * The public types of weftjs/channel: the options and results of {@link Channel}, and the cases, options and
 * results of {@link select}. The implementations are in channel.ts and select.ts.
 */
import type { WaitOptions } from '../types.js';
import type { Channel } from './channel.js';

/**
 * What a full buffered channel does with one more value.
 *
 * - `'wait'` (the default): the sender waits until a receiver makes room.
 * - `'drop-oldest'`: the oldest buffered value is discarded and the new one is accepted (a sliding window, like a
 *   "latest N readings" buffer).
 * - `'drop-newest'`: the value being sent is discarded (like Go's `select { case ch <- v: default: }`).
 *
 * With a drop policy `send` never waits. Drop policies need a capacity of at least 1.
 *
 * @example A channel that keeps only the freshest 10 readings
 * ```ts
 * import { Channel, type OverflowPolicy } from 'weftjs/channel';
 *
 * const policy: OverflowPolicy = 'drop-oldest';
 * const readings = new Channel<number>(10, { overflow: policy });
 * ```
 */
export type OverflowPolicy = 'wait' | 'drop-oldest' | 'drop-newest';

/**
 * Options of the {@link Channel} constructor.
 *
 * @example
 * ```ts
 * import { Channel, type ChannelOptions } from 'weftjs/channel';
 *
 * const options: ChannelOptions<string> = {
 *   overflow: 'drop-newest',
 *   onDrop: (line) => console.warn('dropped', line),
 * };
 * const logLines = new Channel<string>(1000, options);
 * ```
 */
export interface ChannelOptions<T> {
  /**
   * What to do when the buffer is full; see {@link OverflowPolicy}. Default `'wait'`.
   *
   * @example
   * ```ts
   * import { Channel } from 'weftjs/channel';
   *
   * const latest = new Channel<number>(1, { overflow: 'drop-oldest' });
   * latest.trySend(1);
   * latest.trySend(2); // 1 is discarded
   * ```
   */
  overflow?: OverflowPolicy | undefined;
  /**
   * Called synchronously with every value the overflow policy discards after the channel had taken responsibility
   * for it: the oldest value under `'drop-oldest'`, and the value of a `send` (or `select` send case) under
   * `'drop-newest'`. A `trySend` that returns `false` drops nothing: the caller still has its value. Use it to count
   * drops or release resources held by dropped values. An exception it throws is reported as uncaught (like an
   * event listener's) and does not affect the channel.
   *
   * @example Counting what a slow consumer missed
   * ```ts
   * import { Channel } from 'weftjs/channel';
   *
   * let missed = 0;
   * const ticks = new Channel<number>(8, { overflow: 'drop-oldest', onDrop: () => missed++ });
   * ```
   */
  onDrop?: ((value: T) => void) | undefined;
}

/**
 * The result of {@link Channel.tryReceive}: `{ ok: true, value }` when a value was taken, `{ ok: false }` when none
 * was available.
 *
 * @example
 * ```ts
 * import { Channel, type TryReceiveResult } from 'weftjs/channel';
 *
 * const ch = new Channel<string>(1);
 * ch.trySend('ready');
 * const result: TryReceiveResult<string> = ch.tryReceive();
 * if (result.ok) console.log(result.value); // 'ready'
 * ```
 */
export type TryReceiveResult<T> =
  | {
      /** A value was taken. */
      ok: true;
      /** The value taken from the channel. */
      value: T;
    }
  | {
      /** Nothing could be taken right now (empty, or closed and drained). */
      ok: false;
    };

/** Type-level brand carrying what a case produces; no such property exists at runtime. */
declare const caseValue: unique symbol;

/**
 * One operation offered to {@link select}: made by {@link recv} or {@link send}. `T` is the type of the value the
 * case produces when it completes (the received value for `recv`, `void` for `send`).
 *
 * Cases are immutable descriptors: nothing happens until `select` runs them, and the same case (or array of cases)
 * may be passed to many `select` calls.
 *
 * @example
 * ```ts
 * import { Channel, recv, send, type SelectCase } from 'weftjs/channel';
 *
 * const input = new Channel<number>();
 * const output = new Channel<string>(1);
 * const cases: SelectCase<unknown>[] = [recv(input), send(output, 'hello')];
 * ```
 */
export interface SelectCase<T = unknown> {
  /**
   * `'recv'` for a case made by {@link recv}, `'send'` for one made by {@link send}.
   *
   * @example
   * ```ts
   * import { Channel, recv, type SelectCase } from 'weftjs/channel';
   *
   * const c: SelectCase<number> = recv(new Channel<number>());
   * console.log(c.kind); // 'recv'
   * ```
   */
  readonly kind: 'recv' | 'send';
  /**
   * The channel the case operates on.
   *
   * @example
   * ```ts
   * import { Channel, recv, type SelectCase } from 'weftjs/channel';
   *
   * const ch = new Channel<number>();
   * const c: SelectCase<number> = recv(ch);
   * console.log(c.channel === ch); // true
   * ```
   */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any channel; the value type is carried by T
  readonly channel: Channel<any> | Channel<never>; // Channel is invariant, and `any` does not reach `never`
  /**
   * Type-level only (never present at runtime): the value type the case produces.
   * @internal
   */
  readonly [caseValue]?: T;
}

/**
 * A case that receives from {@link RecvCase.channel}; made by {@link recv}.
 *
 * @example
 * ```ts
 * import { Channel, recv, type RecvCase } from 'weftjs/channel';
 *
 * const numbers = new Channel<number>();
 * const next: RecvCase<number> = recv(numbers);
 * ```
 */
export interface RecvCase<T> extends SelectCase<T> {
  /**
   * Always `'recv'`.
   *
   * @example
   * ```ts
   * import { Channel, recv } from 'weftjs/channel';
   *
   * console.log(recv(new Channel<number>()).kind); // 'recv'
   * ```
   */
  readonly kind: 'recv';
  /**
   * The channel to receive from.
   *
   * @example
   * ```ts
   * import { Channel, recv } from 'weftjs/channel';
   *
   * const ch = new Channel<number>();
   * console.log(recv(ch).channel === ch); // true
   * ```
   */
  readonly channel: Channel<T>;
}

/**
 * A case that sends {@link SendCase.value} on {@link SendCase.channel}; made by {@link send}.
 *
 * @example
 * ```ts
 * import { Channel, send, type SendCase } from 'weftjs/channel';
 *
 * const out = new Channel<string>(1);
 * const offer: SendCase<string> = send(out, 'ready');
 * ```
 */
export interface SendCase<T> extends SelectCase<void> {
  /**
   * Always `'send'`.
   *
   * @example
   * ```ts
   * import { Channel, send } from 'weftjs/channel';
   *
   * console.log(send(new Channel<number>(), 1).kind); // 'send'
   * ```
   */
  readonly kind: 'send';
  /**
   * The channel to send on.
   *
   * @example
   * ```ts
   * import { Channel, send } from 'weftjs/channel';
   *
   * const ch = new Channel<number>();
   * console.log(send(ch, 1).channel === ch); // true
   * ```
   */
  readonly channel: Channel<T>;
  /**
   * The value sent if this case is chosen.
   *
   * @example
   * ```ts
   * import { Channel, send } from 'weftjs/channel';
   *
   * console.log(send(new Channel<string>(), 'hi').value); // 'hi'
   * ```
   */
  readonly value: T;
}

/**
 * What {@link select} resolves with, in its general form: `index` is the position of the case that took effect in
 * the array passed to `select` (`-1` for the `default` outcome), `ok` tells whether it completed normally, and
 * `value` is the received value of a `recv` case with `ok: true`.
 *
 * With a literal array of cases, `select` resolves to the narrower {@link SelectResultOf} instead, which is
 * assignable to this type.
 *
 * @example
 * ```ts
 * import { Channel, recv, select, type SelectResult } from 'weftjs/channel';
 *
 * const channels = [new Channel<number>(1), new Channel<number>(1)];
 * channels[1]!.trySend(5);
 * const result: SelectResult = await select(channels.map((ch) => recv(ch)));
 * console.log(result.index, result.ok, result.value); // 1 true 5
 * ```
 */
export interface SelectResult {
  /**
   * Index of the case that took effect, or `-1` when `default: true` found none ready.
   *
   * @example
   * ```ts
   * import { Channel, recv, select } from 'weftjs/channel';
   *
   * const a = new Channel<number>(1);
   * const b = new Channel<number>(1);
   * b.trySend(1);
   * const { index } = await select([recv(a), recv(b)]);
   * console.log(index); // 1
   * ```
   */
  index: number;
  /**
   * `true` when the case completed normally; `false` for a `recv` on a closed, drained channel, or for default.
   *
   * @example
   * ```ts
   * import { Channel, recv, select } from 'weftjs/channel';
   *
   * const done = new Channel<void>();
   * done.close();
   * const { ok } = await select([recv(done)]);
   * console.log(ok); // false: closed and drained
   * ```
   */
  ok: boolean;
  /**
   * The received value (only for a `recv` case with `ok: true`).
   *
   * @example
   * ```ts
   * import { Channel, recv, select } from 'weftjs/channel';
   *
   * const ch = new Channel<string>(1);
   * ch.trySend('x');
   * const { value } = await select([recv(ch)]);
   * console.log(value); // 'x'
   * ```
   */
  value?: unknown;
}

/**
 * The outcome of a non-blocking {@link select} (`default: true`) when no case was ready.
 *
 * @example
 * ```ts
 * import { Channel, recv, select } from 'weftjs/channel';
 *
 * const ch = new Channel<number>();
 * const result = await select([recv(ch)], { default: true });
 * if (result.index === -1) console.log('nothing ready'); // result: { index: -1, ok: false }
 * ```
 */
export interface SelectDefault {
  /**
   * Always `-1`.
   *
   * @example
   * ```ts
   * import { Channel, recv, select } from 'weftjs/channel';
   *
   * const { index } = await select([recv(new Channel<number>())], { default: true });
   * console.log(index); // -1
   * ```
   */
  index: -1;
  /**
   * Always `false`.
   *
   * @example
   * ```ts
   * import { Channel, recv, select } from 'weftjs/channel';
   *
   * const { ok } = await select([recv(new Channel<number>())], { default: true });
   * console.log(ok); // false
   * ```
   */
  ok: false;
  /**
   * Never set.
   *
   * @example
   * ```ts
   * import type { SelectDefault } from 'weftjs/channel';
   *
   * const none: SelectDefault = { index: -1, ok: false };
   * console.log(none.value); // undefined
   * ```
   */
  value?: undefined;
}

/**
 * The result of a `recv` case at position `I` of a channel of `T`: `ok: true` with the value, or `ok: false` (and no
 * value) when the channel was closed and drained.
 *
 * @example
 * ```ts
 * import type { RecvResult } from 'weftjs/channel';
 *
 * function show(result: RecvResult<0, string>) {
 *   if (result.ok) console.log(result.value.toUpperCase());
 *   else console.log('closed');
 * }
 * ```
 */
export type RecvResult<I extends number, T> =
  | {
      /** Position of the case in the array passed to `select`. */
      index: I;
      /** A value was received. */
      ok: true;
      /** The value received. */
      value: T;
    }
  | {
      /** Position of the case in the array passed to `select`. */
      index: I;
      /** The channel is closed and drained: nothing was received. */
      ok: false;
      /** Always `undefined` when `ok` is `false`. */
      value?: undefined;
    };

/**
 * The result of a `send` case at position `I`: it always completes with `ok: true` (a send on a closed channel
 * makes `select` reject instead).
 *
 * @example
 * ```ts
 * import type { SendResult } from 'weftjs/channel';
 *
 * const sent: SendResult<1> = { index: 1, ok: true };
 * ```
 */
export interface SendResult<I extends number> {
  /**
   * Position of the send case.
   *
   * @example
   * ```ts
   * import type { SendResult } from 'weftjs/channel';
   *
   * const sent: SendResult<2> = { index: 2, ok: true };
   * console.log(sent.index); // 2
   * ```
   */
  index: I;
  /**
   * Always `true`.
   *
   * @example
   * ```ts
   * import type { SendResult } from 'weftjs/channel';
   *
   * const sent: SendResult<0> = { index: 0, ok: true };
   * console.log(sent.ok); // true
   * ```
   */
  ok: true;
  /**
   * Never set.
   *
   * @example
   * ```ts
   * import type { SendResult } from 'weftjs/channel';
   *
   * const sent: SendResult<0> = { index: 0, ok: true };
   * console.log(sent.value); // undefined
   * ```
   */
  value?: undefined;
}

/**
 * The result type of one case `C` at position `I`, used by {@link SelectResultOf}.
 *
 * @example
 * ```ts
 * import type { CaseResult, RecvCase } from 'weftjs/channel';
 *
 * type First = CaseResult<RecvCase<number>, 0>; // RecvResult<0, number>
 * const result: First = { index: 0, ok: true, value: 42 };
 * ```
 */
export type CaseResult<C, I extends number> =
  C extends RecvCase<infer T>
    ? RecvResult<I, T>
    : C extends {
          /** Marks a send case. */
          readonly kind: 'send';
        }
      ? SendResult<I>
      : C extends SelectCase<infer T>
        ? {
            /** Position of the case in the array passed to `select`. */
            index: I;
            /** Whether the case completed with a value (`recv`) or the value was sent (`send`). */
            ok: boolean;
            /** The value received, for a `recv` case that completed with `ok: true`. */
            value?: T;
          }
        : SelectResult;

/**
 * The precise result type of {@link select} for a tuple of cases: a union with one member per case, discriminated by
 * `index` (a literal), and for `recv` cases by `ok`. For an array whose length is not known statically, `index` is
 * `number` and the members are those of the case types it contains.
 *
 * @example Narrowing on index and ok
 * ```ts
 * import { Channel, recv, send, select } from 'weftjs/channel';
 *
 * const numbers = new Channel<number>(1);
 * const names = new Channel<string>(1);
 * const log = new Channel<string>(8);
 * const result = await select([recv(numbers), recv(names), send(log, 'tick')]);
 * if (result.index === 0 && result.ok) console.log(result.value + 1); // value: number
 * if (result.index === 1 && result.ok) console.log(result.value.trim()); // value: string
 * if (result.index === 2) console.log('logged');
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- accepts cases of any channel type
export type SelectResultOf<C extends readonly SelectCase<any>[]> = number extends C['length']
  ? CaseResult<C[number], number>
  : { [K in keyof C]: CaseResult<C[K], K extends `${infer I extends number}` ? I : number> }[number];

/**
 * Options of {@link select}: `{ signal, timeout }` like every call that can wait, plus `default`.
 *
 * @example
 * ```ts
 * import { Channel, recv, select, type SelectOptions } from 'weftjs/channel';
 *
 * const ch = new Channel<number>();
 * const options: SelectOptions = { timeout: 100 };
 * await select([recv(ch)], options).catch((error: unknown) => console.log((error as Error).name)); // TimeoutError
 * ```
 */
export interface SelectOptions extends WaitOptions {
  /**
   * `true` makes `select` non-blocking, like Go's `default:` clause: when no case is ready it resolves at once with
   * `{ index: -1, ok: false }`. Default `false`.
   *
   * @example Polling without waiting
   * ```ts
   * import { Channel, recv, select } from 'weftjs/channel';
   *
   * const updates = new Channel<string>(16);
   * const result = await select([recv(updates)], { default: true });
   * if (result.index === -1) console.log('no update pending');
   * ```
   */
  default?: boolean | undefined;
}
