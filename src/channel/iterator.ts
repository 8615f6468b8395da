/**
 * The async iterator of a channel (`for await`, {@link Channel.values}). A step that finds no value parks a
 * {@link StepWaiter} in the channel's queue of receivers. The iterator keeps its waiter once it has delivered a value
 * and reuses it for the next blocked step, so a loop that waits at every step allocates no waiter per step (steps
 * requested without awaiting the previous one each get a waiter of their own).
 */
import { QueueWaiter, timeoutError } from '../internal/waiter.js';
import { rejected } from '../internal/promise.js';
import type { WaitQueue } from '../internal/wait-queue.js';
import type { Channel } from './channel.js';
import { channelCore, EMPTY } from './core.js';
import type { ReceiverNode } from './nodes.js';
import { settleNow } from './turn-budget.js';

/** One step of a {@link ChannelIterator} waiting for a value. */
class StepWaiter<T>
  extends QueueWaiter<IteratorResult<T, undefined>, ReceiverNode<T>>
  implements ReceiverNode<T>
{
  // Assigned in the constructor rather than as a parameter property, which would define the field twice.
  declare private readonly iterator: ChannelIterator<T>;

  constructor(queue: WaitQueue<ReceiverNode<T>>, iterator: ChannelIterator<T>) {
    super(queue);
    this.iterator = iterator;
  }

  get operation(): string {
    return 'Channel iterator step';
  }

  deliver(value: T): void {
    this.grant({ value, done: false });
    this.iterator.spare = this;
  }

  end(reason: unknown): void {
    this.iterator.done = true;
    if (reason === undefined) this.grant({ value: undefined, done: true });
    else this.fail(reason);
  }
}

export class ChannelIterator<T> implements AsyncIterableIterator<T> {
  done = false;
  /** A waiter that has delivered its value, kept for the next step that has to wait. */
  spare: StepWaiter<T> | undefined = undefined;
  readonly #channel: Channel<T>;
  readonly #signal: AbortSignal | undefined;
  readonly #timeout: number | undefined;

  constructor(channel: Channel<T>, signal: AbortSignal | undefined, timeout: number | undefined) {
    this.#channel = channel;
    this.#signal = signal;
    this.#timeout = timeout;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.done) return Promise.resolve({ value: undefined, done: true });
    const signal = this.#signal;
    if (signal !== undefined && signal.aborted) return rejected(signal.reason);
    const channel = this.#channel;
    const value = channelCore.poll(channel);
    if (value !== EMPTY) return settleNow<IteratorResult<T, undefined>>({ value, done: false });
    if (channel.closed) {
      this.done = true;
      const reason = channelCore.closeReason(channel);
      return reason === undefined ? Promise.resolve({ value: undefined, done: true }) : rejected(reason);
    }
    if (this.#timeout === 0) return Promise.reject(timeoutError('Channel iterator step', 0));
    const receivers = channelCore.receivers(channel);
    let waiter = this.spare;
    if (waiter === undefined) waiter = new StepWaiter(receivers, this);
    else this.spare = undefined;
    receivers.push(waiter);
    return waiter.wait(signal, this.#timeout);
  }

  return(): Promise<IteratorResult<T, undefined>> {
    this.done = true;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}
