/**
 * `select` over channel operations, and the `recv` / `send` cases it takes. A blocked `select` parks one
 * {@link CaseNode} per case in the queues of the channels involved; the first channel to serve one settles the
 * select and withdraws the others. The public types are in types.ts.
 */
import { timeoutError, Waiter, waitOptionsError } from '../internal/waiter.js';
import { rejected } from '../internal/promise.js';
import { invalid } from '../internal/validate.js';
import { WaitNode, type WaitQueue } from '../internal/wait-queue.js';
import { Channel } from './channel.js';
import { channelCore, EMPTY, sendClosedError } from './core.js';
import type { ReceiverNode, SenderNode } from './nodes.js';
import { settleNow } from './turn-budget.js';
import type {
  RecvCase,
  SelectCase,
  SelectDefault,
  SelectOptions,
  SelectResult,
  SelectResultOf,
  SendCase,
} from './types.js';

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
    if (error !== undefined) return rejected(error);
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
    const node = new CaseNode(waiter, i);
    waiter.nodes[i] = node;
    if (item.kind === 'recv') node.enqueue(channelCore.receivers(item.channel), undefined);
    else node.enqueue(channelCore.senders(item.channel), item.value);
  }
  return waiter.wait(options?.signal, timeout);
}

function receiveNow(index: number, channel: Channel<unknown>): Promise<SelectResult> {
  const value = channelCore.poll(channel);
  if (value !== EMPTY) return settleNow<SelectResult>({ index, ok: true, value });
  const reason = channelCore.closeReason(channel);
  if (reason !== undefined) return rejected(reason);
  return settleNow<SelectResult>({ index, ok: false });
}

/** One blocked `select`: its promise, and one queue node per case. */
class SelectWaiter extends Waiter<SelectResult> {
  settled = false;
  readonly nodes: CaseNode[];

  constructor(count: number) {
    super();
    this.nodes = new Array<CaseNode>(count);
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

/**
 * One case of a blocked `select`, queued in its channel: among the receivers for a `recv` case (the channel calls
 * `deliver` or `end`), among the senders for a `send` case (`taken` or `reject`).
 */
class CaseNode extends WaitNode implements ReceiverNode<unknown>, SenderNode<unknown> {
  // Fields are `declare`d and assigned in the constructor: parameter properties would define each field twice.
  declare private readonly waiter: SelectWaiter;
  declare private readonly index: number;
  declare private queue: WaitQueue<CaseNode>;
  /** The value of a send case. */
  declare value: unknown;

  constructor(waiter: SelectWaiter, index: number) {
    super();
    this.waiter = waiter;
    this.index = index;
  }

  enqueue(queue: WaitQueue<ReceiverNode<unknown>> | WaitQueue<SenderNode<unknown>>, value: unknown): void {
    this.value = value;
    this.queue = queue as WaitQueue<CaseNode>;
    this.queue.push(this);
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
