import { timeoutError, Waiter, waitOptionsError } from '../internal/cancel.js';
import { invalid } from '../internal/validate.js';
import { WaitNode, type WaitQueue } from '../internal/wait-queue.js';
import type { WaitOptions } from '../types.js';
import { Channel, channelCore, EMPTY, rejectWith, sendClosedError } from './channel.js';
import type { ReceiverNode, SenderNode } from './nodes.js';
import { settleNow } from './turn-budget.js';

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

/** The result for case `C` at position `I`. */
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

class RecvCaseImpl<T> implements RecvCase<T> {
  readonly kind = 'recv';
  constructor(readonly channel: Channel<T>) {}
}

class SendCaseImpl<T> implements SendCase<T> {
  readonly kind = 'send';
  constructor(
    readonly channel: Channel<T>,
    readonly value: T,
  ) {}
}

/**
 * A {@link select} case that receives from `channel`. It completes with `{ index, ok: true, value }` when it takes a
 * value, or `{ index, ok: false }` when the channel is closed and drained (if the channel was closed with a reason,
 * `select` rejects with that reason instead, as `receive` does).
 *
 * @param channel - The channel to receive from.
 * @returns The case, to pass to `select`.
 * @throws TypeError if `channel` is not a {@link Channel}.
 *
 * @example
 * ```ts
 * import { Channel, recv, select } from 'weftjs/channel';
 *
 * const ch = new Channel<string>(1);
 * ch.trySend('hi');
 * const result = await select([recv(ch)]);
 * if (result.ok) console.log(result.value); // 'hi'
 * ```
 */
export function recv<T>(channel: Channel<T>): RecvCase<T> {
  if (!(channel instanceof Channel)) {
    throw invalid('recv', 'channel must be a Channel', channel);
  }
  return new RecvCaseImpl(channel);
}

/**
 * A {@link select} case that sends `value` on `channel`. It completes with `{ index, ok: true }` once the value is
 * buffered or taken. If `channel` is closed, `select` rejects with {@link ChannelClosedError}.
 *
 * @param channel - The channel to send on.
 * @param value - The value to send if this case is chosen.
 * @returns The case, to pass to `select`.
 * @throws TypeError if `channel` is not a {@link Channel}.
 *
 * @example Send, unless a cancellation comes first
 * ```ts
 * import { Channel, recv, send, select } from 'weftjs/channel';
 *
 * const results = new Channel<number>();
 * const quit = new Channel<void>();
 * const { index } = await select([send(results, 42), recv(quit)]);
 * console.log(index === 0 ? 'delivered' : 'quit');
 * ```
 */
export function send<T>(channel: Channel<T>, value: T): SendCase<T> {
  if (!(channel instanceof Channel)) {
    throw invalid('send', 'channel must be a Channel', channel);
  }
  return new SendCaseImpl(channel, value);
}

/**
 * Waits until exactly one of `cases` can take effect, performs it, and resolves with which one it was, like Go's
 * `select` statement.
 *
 * - **Exactly one case takes effect.** The others leave no trace: no value is taken from their channels, none is
 *   sent, and no waiter is left in any queue.
 * - **Fair.** When several cases are ready, one is chosen uniformly at random, so no case starves. While none is,
 *   `select` waits in the FIFO queue of every channel involved, and the first channel that can serve it wins.
 * - **Closing.** A `recv` case on a closed, drained channel is ready and completes with `ok: false`. A `send` case
 *   on a closed channel makes `select` reject with {@link ChannelClosedError} (checked before anything happens).
 * - **Non-blocking.** With `default: true`, resolves `{ index: -1, ok: false }` at once if no case is ready.
 * - **Cancellable.** `signal` and `timeout` stop the wait; nothing is sent or taken then.
 *
 * An empty `cases` array waits until cancelled (like an empty Go `select`), or resolves the default outcome.
 *
 * @param cases - Cases made by {@link recv} and {@link send}; the same channel may appear more than once.
 * @param options - `default`, `signal`, `timeout`; see {@link SelectOptions}.
 * @returns A promise for the outcome, typed per case for a literal array (see {@link SelectResultOf}). Rejects with
 *   `ChannelClosedError` (send case on a closed channel), the close reason of a channel closed with one, the
 *   `signal.reason`, a `TimeoutError` `DOMException`, or a `TypeError`/`RangeError` for bad arguments.
 *
 * @example Multiplexing two inputs with a timeout
 * ```ts
 * import { Channel, recv, select } from 'weftjs/channel';
 *
 * const clicks = new Channel<{ x: number; y: number }>(8);
 * const keys = new Channel<string>(8);
 * for (;;) {
 *   const event = await select([recv(clicks), recv(keys)], { timeout: 30_000 });
 *   if (!event.ok) break; // a channel closed
 *   if (event.index === 0) console.log('click at', event.value.x, event.value.y);
 *   else console.log('key', event.value);
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- accepts cases of any channel type
export function select<const C extends readonly SelectCase<any>[]>(
  cases: C,
  options: SelectOptions & { default: true },
): Promise<SelectResultOf<C> | SelectDefault>;
/**
 * Waits until exactly one of `cases` can take effect, performs it, and resolves with which one it was. See the
 * first signature for the full description.
 *
 * @param cases - Cases made by {@link recv} and {@link send}.
 * @param options - `signal` and `timeout`.
 * @returns A promise for the outcome, typed per case.
 *
 * @example
 * ```ts
 * import { Channel, recv, select } from 'weftjs/channel';
 *
 * const ch = new Channel<number>(1);
 * ch.trySend(3);
 * const result = await select([recv(ch)], { timeout: 1000 });
 * if (result.ok) console.log(result.value * 2); // 6
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- accepts cases of any channel type
export function select<const C extends readonly SelectCase<any>[]>(
  cases: C,
  options?: SelectOptions & { default?: false | undefined },
): Promise<SelectResultOf<C>>;
/**
 * Waits until exactly one of `cases` can take effect, performs it, and resolves with which one it was; when
 * `options.default` is only known at runtime, the result may also be the default outcome.
 *
 * @param cases - Cases made by {@link recv} and {@link send}.
 * @param options - `default`, `signal`, `timeout`.
 * @returns A promise for the outcome, typed per case, or {@link SelectDefault}.
 *
 * @example
 * ```ts
 * import { Channel, recv, select } from 'weftjs/channel';
 *
 * const ch = new Channel<number>(1);
 * const nonBlocking = Math.random() < 0.5;
 * const result = await select([recv(ch)], { default: nonBlocking, timeout: 10 }).catch(() => undefined);
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- accepts cases of any channel type
export function select<const C extends readonly SelectCase<any>[]>(
  cases: C,
  options?: SelectOptions,
): Promise<SelectResultOf<C> | SelectDefault>;
export function select(cases: readonly SelectCase[], options?: SelectOptions): Promise<SelectResult> {
  if (!Array.isArray(cases)) {
    return Promise.reject(invalid('select', 'cases must be an array', cases));
  }
  let blocking = true;
  if (options !== undefined) {
    const nonBlocking: unknown = (options as SelectOptions | null)?.default;
    if (nonBlocking !== undefined && typeof nonBlocking !== 'boolean') {
      return Promise.reject(invalid('select', 'default must be a boolean', nonBlocking));
    }
    const error = waitOptionsError('select', options);
    if (error !== undefined) return rejectWith(error);
    blocking = nonBlocking !== true;
  }

  // Pass 1: validate, reject sends on closed channels before anything happens, and count the ready cases.
  const count = cases.length;
  let ready = 0;
  for (let i = 0; i < count; i++) {
    const item: unknown = cases[i];
    if (item instanceof RecvCaseImpl) {
      if (channelCore.canReceive(item.channel as Channel<unknown>)) ready++;
    } else if (item instanceof SendCaseImpl) {
      const channel = item.channel as Channel<unknown>;
      if (channel.closed) return Promise.reject(sendClosedError(channelCore.closeReason(channel)));
      if (channelCore.canSend(channel)) ready++;
    } else {
      return Promise.reject(invalid('select', `cases[${i}] must be a case made by recv() or send()`, item));
    }
  }

  // Pass 2: perform one ready case, chosen uniformly at random.
  if (ready > 0) {
    let skip = ready === 1 ? 0 : Math.floor(Math.random() * ready);
    for (let i = 0; i < count; i++) {
      const item = cases[i] as RecvCaseImpl<unknown> | SendCaseImpl<unknown>;
      if (item.kind === 'recv') {
        if (channelCore.canReceive(item.channel) && skip-- === 0) return receiveNow(i, item.channel);
      } else if (channelCore.canSend(item.channel) && skip-- === 0) {
        channelCore.sendNow(item.channel, item.value);
        return settleNow<SelectResult>({ index: i, ok: true });
      }
    }
  }

  if (!blocking) return settleNow<SelectResult>({ index: -1, ok: false });
  const timeout = options?.timeout;
  if (timeout === 0) return Promise.reject(timeoutError('select', 0));

  // Nothing ready: wait in every channel's queue at once; the first channel to serve a case wins.
  const waiter = new SelectWaiter(count);
  for (let i = 0; i < count; i++) {
    const item = cases[i] as RecvCaseImpl<unknown> | SendCaseImpl<unknown>;
    if (item.kind === 'recv') {
      const queue = channelCore.receivers(item.channel);
      const node = new RecvNode(waiter, i, queue);
      waiter.nodes[i] = node;
      queue.push(node);
    } else {
      const queue = channelCore.senders(item.channel);
      const node = new SendNode(waiter, i, queue, item.value);
      waiter.nodes[i] = node;
      queue.push(node);
    }
  }
  return waiter.wait(options?.signal, timeout);
}

function receiveNow(index: number, channel: Channel<unknown>): Promise<SelectResult> {
  const value = channelCore.poll(channel);
  if (value !== EMPTY) return settleNow<SelectResult>({ index, ok: true, value });
  const reason = channelCore.closeReason(channel);
  if (reason !== undefined) return rejectWith(reason);
  return settleNow<SelectResult>({ index, ok: false });
}

/** One blocked `select`: its promise, and one queue node per case. */
class SelectWaiter extends Waiter<SelectResult> {
  settled = false;
  readonly nodes: (RecvNode | SendNode)[];

  constructor(count: number) {
    super();
    this.nodes = new Array<RecvNode | SendNode>(count);
  }

  get operation(): string {
    return 'select';
  }

  /** A case took effect: withdraw every other case, then resolve. */
  win(result: SelectResult): void {
    if (this.settled) return;
    this.release();
    this.grant(result);
  }

  lose(error: unknown): void {
    if (this.settled) return;
    this.release();
    this.fail(error);
  }

  cancel(reason: unknown): void {
    this.lose(reason);
  }

  private release(): void {
    this.settled = true;
    for (const node of this.nodes) node.unlink();
  }
}

// Fields are `declare`d and assigned in the constructor: parameter properties would define each field twice.
class RecvNode extends WaitNode implements ReceiverNode<unknown> {
  declare private readonly waiter: SelectWaiter;
  declare private readonly index: number;
  declare private readonly queue: WaitQueue<ReceiverNode<unknown>>;

  constructor(waiter: SelectWaiter, index: number, queue: WaitQueue<ReceiverNode<unknown>>) {
    super();
    this.waiter = waiter;
    this.index = index;
    this.queue = queue;
  }

  deliver(value: unknown): void {
    // Channels only deliver to linked nodes, and a settled select has unlinked all of its nodes synchronously, so
    // the select is still pending here and the value always lands.
    this.waiter.win({ index: this.index, ok: true, value });
  }

  end(reason: unknown): void {
    if (reason === undefined) this.waiter.win({ index: this.index, ok: false });
    else this.waiter.lose(reason);
  }

  unlink(): void {
    this.queue.remove(this);
  }
}

class SendNode extends WaitNode implements SenderNode<unknown> {
  declare private readonly waiter: SelectWaiter;
  declare private readonly index: number;
  declare private readonly queue: WaitQueue<SenderNode<unknown>>;
  declare readonly value: unknown;

  constructor(waiter: SelectWaiter, index: number, queue: WaitQueue<SenderNode<unknown>>, value: unknown) {
    super();
    this.waiter = waiter;
    this.index = index;
    this.queue = queue;
    this.value = value;
  }

  taken(): void {
    this.waiter.win({ index: this.index, ok: true });
  }

  reject(error: unknown): void {
    this.waiter.lose(error);
  }

  unlink(): void {
    this.queue.remove(this);
  }
}
