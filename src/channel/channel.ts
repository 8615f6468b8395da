import { timeoutError, waitOptionsError, waitOptionsTypeError } from '../internal/waiter.js';
import { rejected, resolved } from '../internal/promise.js';
import { describe, invalid } from '../internal/validate.js';
import { WaitQueue } from '../internal/wait-queue.js';
import type { WaitOptions } from '../types.js';
import { assertCapacity, EMPTY, receiveClosedError, sendClosedError, setChannelCore } from './core.js';
import { ChannelIterator } from './iterator.js';
import type { ReceiverNode, SenderNode } from './nodes.js';
import { RingBuffer } from './ring-buffer.js';
import { settleNow, settleVoidNow } from './turn-budget.js';
import type { ChannelOptions, TryReceiveResult } from './types.js';
import { ReceiveWaiter, SendWaiter } from './waiters.js';

const WAIT = 0;
const DROP_OLDEST = 1;
const DROP_NEWEST = 2;
type Overflow = typeof WAIT | typeof DROP_OLDEST | typeof DROP_NEWEST;

/**
 * A typed, Go-style channel: a FIFO pipe between async producers and consumers, with backpressure.
 *
 * - **Unbuffered** (`new Channel()`, capacity 0): a rendezvous. `send` resolves only once a receiver has taken the
 *   value, so producer and consumer move in lockstep.
 * - **Buffered** (`new Channel(n)`): `send` resolves as soon as the value is in the buffer; it waits only while the
 *   buffer is full (or discards a value instead, with an {@link OverflowPolicy} other than `'wait'`).
 * - **Unbounded** (`new Channel(Infinity)`): `send` never waits. Use with care: nothing slows a fast producer down.
 *
 * Values are delivered exactly once and in FIFO order per sender. All waiting receivers (`receive`, `recv` cases of
 * {@link select}, iterators) share one FIFO queue per channel; so do all waiting senders. Every call that can wait
 * takes `{ signal, timeout }`: abort rejects with `signal.reason`, a timeout with a `DOMException` named
 * `TimeoutError`, and either way the waiter leaves the queue at once, having sent or taken nothing.
 *
 * **Closing.** `close()` is idempotent. Buffered values stay receivable; once they are drained, `receive` rejects
 * with {@link ChannelClosedError} and iteration ends. Sends on a closed channel reject with `ChannelClosedError`, and
 * so do senders still waiting when it closes. Only the sending side should close a channel, as in Go.
 *
 * **Fairness to the event loop.** A producer and a consumer that await each other would otherwise ping-pong on the
 * microtask queue forever, starving timers and I/O. Operations that complete at once are counted, and once they have
 * kept the microtask queue busy for about 5 ms without a macrotask turn, the next ones settle on a macrotask turn
 * (`setImmediate` on Node, a `MessageChannel` message in browsers). Nothing is reordered or lost; the event loop
 * simply gets a turn about every 5 ms, at a cost of one macrotask per slice.
 *
 * @example Producer and consumer
 * ```ts
 * import { Channel } from 'weftjs/channel';
 *
 * const jobs = new Channel<string>(16);
 *
 * async function produce() {
 *   for (const url of ['a', 'b', 'c']) await jobs.send(url); // waits while 16 jobs are queued
 *   jobs.close();
 * }
 *
 * async function consume() {
 *   for await (const url of jobs) console.log('fetching', url); // ends once closed and drained
 * }
 *
 * await Promise.all([produce(), consume()]);
 * ```
 *
 * @example Cancellable receive
 * ```ts
 * import { Channel } from 'weftjs/channel';
 *
 * const replies = new Channel<string>();
 * try {
 *   const reply = await replies.receive({ timeout: 1000 });
 *   console.log(reply);
 * } catch (error) {
 *   if (error instanceof DOMException && error.name === 'TimeoutError') console.log('no reply within 1 s');
 * }
 * ```
 */
export class Channel<in out T> implements AsyncIterable<T>, AsyncDisposable {
  readonly #capacity: number;
  readonly #overflow: Overflow;
  readonly #onDrop: ((value: T) => void) | undefined;
  readonly #buffer: RingBuffer<T>;
  readonly #receivers = new WaitQueue<ReceiverNode<T>>();
  readonly #senders = new WaitQueue<SenderNode<T>>();
  #closed = false;
  #closeReason: unknown = undefined;
  #closeListeners: (() => void)[] | undefined = undefined;
  // One settled waiter of each kind kept for reuse: a hand-off on a busy channel then allocates no waiter object.
  // Only waiters that completed a hand-off are kept (never cancelled or rejected ones), and only after `grant`.
  #spareSender: SendWaiter<T> | undefined = undefined;
  #spareReceiver: ReceiveWaiter<T> | undefined = undefined;

  static {
    setChannelCore({
      poll: (channel) => channel.#poll(),
      canReceive: (channel) => channel.#buffer.size > 0 || channel.#senders.length > 0 || channel.#closed,
      canSend: (channel) =>
        channel.#receivers.length > 0 ||
        channel.#buffer.size < channel.#capacity ||
        channel.#overflow !== WAIT,
      sendNow: (channel, value) => {
        if (!channel.#offer(value)) channel.#drop(value);
      },
      closeReason: (channel) => channel.#closeReason,
      receivers: (channel) => channel.#receivers,
      senders: (channel) => channel.#senders,
      onClose: (channel, listener) => {
        if (channel.#closed) listener();
        else (channel.#closeListeners ??= []).push(listener);
      },
    });
  }

  /**
   * @param capacity - How many values the channel buffers: `0` (the default) for an unbuffered rendezvous channel,
   *   a positive integer for a buffered one, `Infinity` for an unbounded one.
   * @param options - The overflow policy and a drop callback; see {@link ChannelOptions}.
   * @throws TypeError if `capacity` is not a number, or an option has the wrong type or an unknown value.
   * @throws RangeError if `capacity` is negative or fractional, or a drop policy is combined with capacity 0.
   *
   * @example The three kinds of channel
   * ```ts
   * import { Channel } from 'weftjs/channel';
   *
   * const rendezvous = new Channel<number>(); // send waits for a receiver
   * const buffered = new Channel<number>(64); // send waits only while 64 values are queued
   * const unbounded = new Channel<number>(Infinity); // send never waits
   * const sliding = new Channel<number>(64, { overflow: 'drop-oldest' }); // send never waits, keeps the newest 64
   * ```
   */
  constructor(capacity: number = 0, options?: ChannelOptions<T>) {
    assertCapacity('Channel', capacity);
    let overflow: Overflow = WAIT;
    let onDrop: ((value: T) => void) | undefined;
    if (options !== undefined) {
      if (typeof options !== 'object' || options === null) {
        throw invalid('Channel', 'options must be an object', options);
      }
      const policy: unknown = options.overflow;
      if (policy === 'drop-oldest') overflow = DROP_OLDEST;
      else if (policy === 'drop-newest') overflow = DROP_NEWEST;
      else if (policy !== undefined && policy !== 'wait') {
        throw invalid('Channel', `overflow must be 'wait', 'drop-oldest' or 'drop-newest'`, policy);
      }
      if (overflow !== WAIT && capacity === 0) {
        throw new RangeError(`Channel: overflow ${describe(policy)} needs a capacity of at least 1, got 0`);
      }
      onDrop = options.onDrop;
      if (onDrop !== undefined && typeof onDrop !== 'function') {
        throw invalid('Channel', 'onDrop must be a function', onDrop);
      }
    }
    this.#capacity = capacity;
    this.#overflow = overflow;
    this.#onDrop = onDrop;
    this.#buffer = new RingBuffer<T>(Math.min(capacity, 16));
  }

  /**
   * Sends `value`. Resolves once the value is buffered or taken by a receiver; on an unbuffered channel that means a
   * receiver has it. While the buffer is full the sender waits its turn in the channel's FIFO of senders (unless a
   * drop policy is set, in which case it never waits).
   *
   * @param value - The value to send.
   * @param options - `signal` / `timeout` to stop waiting; the value is then not sent. `timeout: 0` sends only if
   *   that is possible right now.
   * @returns A promise that resolves when the value has been accepted.
   *   Rejects with {@link ChannelClosedError} if the channel is closed, or closes while the sender waits (the close
   *   reason, if any, is the error's `cause`); with `signal.reason` on abort; with a `TimeoutError` `DOMException`
   *   on timeout; with `TypeError`/`RangeError` for bad options.
   *
   * @example Backpressure: the producer waits while the consumer is behind
   * ```ts
   * import { Channel } from 'weftjs/channel';
   *
   * const ch = new Channel<number>(2);
   * await ch.send(1);
   * await ch.send(2);
   * const third = ch.send(3); // waits: the buffer is full
   * console.log(await ch.receive()); // 1, and now `third` resolves
   * await third;
   * ```
   */
  send(value: T, options?: WaitOptions): Promise<void> {
    if (options !== undefined) {
      const error = waitOptionsError('Channel.send', options);
      if (error !== undefined) return rejected(error);
    }
    if (this.#closed) return Promise.reject(sendClosedError(this.#closeReason));
    if (this.#offer(value)) return settleVoidNow();
    if (this.#overflow === DROP_NEWEST) {
      this.#drop(value);
      return settleVoidNow();
    }
    const timeout = options?.timeout;
    if (timeout === 0) return Promise.reject(timeoutError('Channel.send', 0));
    let waiter = this.#spareSender;
    if (waiter === undefined) waiter = new SendWaiter(this.#senders, value);
    else {
      this.#spareSender = undefined;
      waiter.value = value;
    }
    this.#senders.push(waiter);
    return waiter.wait(options?.signal, timeout);
  }

  /**
   * Sends `value` only if that is possible right now, without waiting.
   *
   * @param value - The value to send.
   * @returns `true` if the value was accepted (taken by a waiting receiver, buffered, or buffered after discarding
   *   the oldest value under `'drop-oldest'`); `false` if the channel is closed, or the buffer is full under
   *   `'wait'` or `'drop-newest'` (the value was not sent and is still yours).
   *
   * @example Shedding load instead of waiting
   * ```ts
   * import { Channel } from 'weftjs/channel';
   *
   * const work = new Channel<string>(100);
   * if (!work.trySend('resize image 42')) console.warn('busy, request rejected');
   * ```
   */
  trySend(value: T): boolean {
    if (this.#closed) return false;
    return this.#offer(value);
  }

  /**
   * Receives the next value: the oldest buffered one, or the value of the sender that has waited longest. While
   * there is none, the receiver waits its turn in the channel's FIFO of receivers.
   *
   * @param options - `signal` / `timeout` to stop waiting; nothing is taken then. `timeout: 0` receives only if a
   *   value is available right now.
   * @returns A promise for the value. Rejects with {@link ChannelClosedError} once the channel is closed and drained
   *   (or with the reason passed to {@link Channel.close}); with `signal.reason` on abort; with a `TimeoutError`
   *   `DOMException` on timeout; with `TypeError`/`RangeError` for bad options.
   *
   * @example
   * ```ts
   * import { Channel, ChannelClosedError } from 'weftjs/channel';
   *
   * const ch = new Channel<number>(1);
   * await ch.send(7);
   * ch.close();
   * console.log(await ch.receive()); // 7: buffered values survive close
   * await ch.receive().catch((error: unknown) => console.log(error instanceof ChannelClosedError)); // true
   * ```
   */
  receive(options?: WaitOptions): Promise<T> {
    if (options !== undefined) {
      const error = waitOptionsError('Channel.receive', options);
      if (error !== undefined) return rejected(error);
    }
    const value = this.#poll();
    if (value !== EMPTY) return settleNow(value);
    if (this.#closed) return rejected(receiveClosedError(this.#closeReason));
    const timeout = options?.timeout;
    if (timeout === 0) return Promise.reject(timeoutError('Channel.receive', 0));
    let waiter = this.#spareReceiver;
    if (waiter === undefined) waiter = new ReceiveWaiter(this.#receivers);
    else this.#spareReceiver = undefined;
    this.#receivers.push(waiter);
    return waiter.wait(options?.signal, timeout);
  }

  /**
   * Receives a value only if one is available right now, without waiting.
   *
   * @returns `{ ok: true, value }` with the value taken, or `{ ok: false }` if there is none (check
   *   {@link Channel.closed} to tell "empty for now" from "closed and drained").
   *
   * @example Draining what is there
   * ```ts
   * import { Channel } from 'weftjs/channel';
   *
   * const ch = new Channel<number>(8);
   * ch.trySend(1);
   * ch.trySend(2);
   * for (let r = ch.tryReceive(); r.ok; r = ch.tryReceive()) console.log(r.value);
   * ```
   */
  tryReceive(): TryReceiveResult<T> {
    const value = this.#poll();
    return value === EMPTY ? { ok: false } : { ok: true, value };
  }

  /**
   * Closes the channel. Idempotent: only the first call has an effect.
   *
   * Buffered values stay receivable. Senders still waiting reject with {@link ChannelClosedError}, as do later
   * sends; `trySend` returns `false`. Once the buffer is drained, receivers reject with `ChannelClosedError`,
   * iteration ends and `recv` cases of {@link select} complete with `ok: false`.
   *
   * @param reason - Optional. When given, it marks an abnormal end (an upstream failure): once drained, `receive`
   *   and `select` reject with `reason` itself and iteration throws it, instead of ending quietly; senders get a
   *   `ChannelClosedError` whose `cause` is `reason`. This is how the pipeline helpers carry an error downstream.
   *
   * @example
   * ```ts
   * import { Channel } from 'weftjs/channel';
   *
   * const ch = new Channel<string>(4);
   * await ch.send('last words');
   * ch.close();
   * for await (const message of ch) console.log(message); // 'last words', then the loop ends
   * ```
   *
   * @example Passing a failure downstream
   * ```ts
   * import { Channel } from 'weftjs/channel';
   *
   * const rows = new Channel<string>(4);
   * rows.close(new Error('database connection lost'));
   * try {
   *   for await (const row of rows) console.log(row);
   * } catch (error) {
   *   console.error(error); // Error: database connection lost
   * }
   * ```
   */
  close(reason?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#closeReason = reason;
    if (this.#senders.length > 0) {
      for (const sender of this.#senders.drain()) sender.reject(sendClosedError(reason));
    }
    // Receivers only wait on an empty buffer, so every one of them now sees "closed and drained".
    if (this.#receivers.length > 0) {
      for (const receiver of this.#receivers.drain()) receiver.end(reason);
    }
    const listeners = this.#closeListeners;
    if (listeners !== undefined) {
      this.#closeListeners = undefined;
      for (const listener of listeners) listener();
    }
  }

  /**
   * Closes the channel, for `await using`.
   *
   * @returns A resolved promise.
   *
   * @example
   * ```ts
   * import { Channel } from 'weftjs/channel';
   *
   * {
   *   await using results = new Channel<number>(16);
   *   results.trySend(1);
   * } // closed here
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return resolved();
  }

  /**
   * Iterates over received values until the channel is closed and drained. Leaving the loop early (`break`,
   * `return`, an exception) does not close the channel and takes no value beyond the last one delivered, so another
   * consumer can carry on. Several loops over one channel share its values (each value goes to exactly one of them).
   *
   * @returns An async iterator; see {@link Channel.values} for one that can be aborted.
   *
   * @example
   * ```ts
   * import { Channel } from 'weftjs/channel';
   *
   * const ch = new Channel<number>(Infinity);
   * for (const n of [1, 2, 3]) ch.trySend(n);
   * ch.close();
   * for await (const n of ch) console.log(n); // 1, 2, 3
   * ```
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<T> {
    return new ChannelIterator(this, undefined, undefined);
  }

  /**
   * Like iterating the channel directly, with cancellation: aborting `signal` makes the pending (or next) step
   * reject with `signal.reason`, which exits a `for await` loop by throwing; `timeout` limits how long each single
   * step may wait for a value (an idle timeout), rejecting with a `TimeoutError` `DOMException`. Nothing is taken
   * from the channel by a step that rejects.
   *
   * @param options - `signal` and a per-step `timeout`.
   * @returns An async iterator over the channel's values.
   * @throws TypeError if `options` or `signal` has the wrong type; RangeError for a negative or NaN `timeout`.
   *
   * @example Stop consuming when the user cancels
   * ```ts
   * import { Channel } from 'weftjs/channel';
   *
   * const events = new Channel<string>(32);
   * const controller = new AbortController();
   * setTimeout(() => controller.abort(), 1000);
   * try {
   *   for await (const event of events.values({ signal: controller.signal })) console.log(event);
   * } catch (error) {
   *   if ((error as Error).name !== 'AbortError') throw error;
   * }
   * ```
   */
  values(options?: WaitOptions): AsyncIterableIterator<T> {
    if (options === undefined) return new ChannelIterator(this, undefined, undefined);
    const error = waitOptionsTypeError('Channel.values', options);
    if (error !== undefined) throw error;
    return new ChannelIterator(this, options.signal, options.timeout);
  }

  /**
   * Whether {@link Channel.close} has been called. A closed channel may still hold buffered values.
   *
   * @example
   * ```ts
   * import { Channel } from 'weftjs/channel';
   *
   * const ch = new Channel<number>(1);
   * ch.close();
   * console.log(ch.closed, ch.trySend(1)); // true false
   * ```
   */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Number of values buffered right now. A sender waiting on a full or unbuffered channel is not counted (see
   * {@link Channel.pendingSenders}).
   *
   * @example
   * ```ts
   * import { Channel } from 'weftjs/channel';
   *
   * const ch = new Channel<number>(8);
   * ch.trySend(1);
   * ch.trySend(2);
   * console.log(ch.size); // 2
   * ```
   */
  get size(): number {
    return this.#buffer.size;
  }

  /**
   * The capacity given to the constructor: `0` for unbuffered, `Infinity` for unbounded.
   *
   * @example
   * ```ts
   * import { Channel } from 'weftjs/channel';
   *
   * console.log(new Channel().capacity, new Channel(Infinity).capacity); // 0 Infinity
   * ```
   */
  get capacity(): number {
    return this.#capacity;
  }

  /**
   * Number of senders waiting in the channel's queue: pending `send` calls and `send` cases of blocked
   * {@link select} calls. An aborted or timed-out sender leaves the queue at once, so this returns to 0 when nobody
   * waits; useful for monitoring and in tests.
   *
   * @example
   * ```ts
   * import { Channel } from 'weftjs/channel';
   *
   * const ch = new Channel<number>();
   * void ch.send(1);
   * console.log(ch.pendingSenders); // 1: waiting for a receiver
   * ```
   */
  get pendingSenders(): number {
    return this.#senders.length;
  }

  /**
   * Number of receivers waiting in the channel's queue: pending `receive` calls, iterator steps and `recv` cases of
   * blocked {@link select} calls. Cancelled receivers leave the queue at once.
   *
   * @example
   * ```ts
   * import { Channel } from 'weftjs/channel';
   *
   * const ch = new Channel<number>();
   * void ch.receive();
   * console.log(ch.pendingReceivers); // 1
   * ```
   */
  get pendingReceivers(): number {
    return this.#receivers.length;
  }

  /** Takes a value now: the oldest buffered one (refilling from the oldest waiting sender), or a waiting sender's. */
  #poll(): T | typeof EMPTY {
    const buffer = this.#buffer;
    let value: T;
    let sender: SenderNode<T> | undefined;
    if (buffer.size > 0) {
      value = buffer.shift();
      sender = this.#senders.shift();
      if (sender === undefined) return value;
      buffer.push(sender.value);
    } else {
      sender = this.#senders.shift();
      if (sender === undefined) return EMPTY;
      value = sender.value;
    }
    sender.taken();
    if (sender instanceof SendWaiter) {
      sender.value = undefined as T; // do not keep the value alive
      this.#spareSender = sender;
    }
    return value;
  }

  /** Hands `value` to the oldest waiting receiver or buffers it; `false` if it would have to wait or be dropped. */
  #offer(value: T): boolean {
    const receiver = this.#receivers.shift();
    if (receiver !== undefined) {
      receiver.deliver(value);
      if (receiver instanceof ReceiveWaiter) this.#spareReceiver = receiver;
      return true;
    }
    const buffer = this.#buffer;
    if (buffer.size < this.#capacity) {
      buffer.push(value);
      return true;
    }
    if (this.#overflow !== DROP_OLDEST) return false;
    const oldest = buffer.shift();
    buffer.push(value);
    this.#drop(oldest);
    return true;
  }

  #drop(value: T): void {
    const onDrop = this.#onDrop;
    if (onDrop === undefined) return;
    try {
      onDrop(value);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
