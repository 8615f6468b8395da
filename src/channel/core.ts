/**
 * What the channel module shares internally, beside the public {@link Channel}: privileged access to a channel's
 * state ({@link channelCore}, for `select`, the iterator and the pipeline helpers), the "nothing to receive" marker,
 * argument checks and the errors of a closed channel. Not re-exported by the package index.
 */
import { ChannelClosedError } from '../errors.js';
import { isAbortSignal } from '../internal/waiter.js';
import { invalid } from '../internal/validate.js';
import type { WaitQueue } from '../internal/wait-queue.js';
import type { Channel } from './channel.js';
import type { ReceiverNode, SenderNode } from './nodes.js';

/** Returned by the internal poll when there is nothing to receive right now. */
export const EMPTY: unique symbol = Symbol('weft.channel.empty');

/**
 * Privileged access to a channel's state, for `select` and the iterator; not part of the public API (the package
 * index does not re-export it). Set once by a static block of {@link Channel}, which alone can read its `#` fields.
 */
export interface ChannelCore {
  /** Takes a value now (from the buffer or a parked sender), or returns {@link EMPTY}. */
  poll<T>(channel: Channel<T>): T | typeof EMPTY;
  /** Whether a receive would complete now: a value is available, or the channel is closed and drained. */
  canReceive<T>(channel: Channel<T>): boolean;
  /** Whether a send on an open channel would complete now (a drop policy always completes). */
  canSend<T>(channel: Channel<T>): boolean;
  /** Sends now on an open channel for which {@link ChannelCore.canSend} holds, dropping per the overflow policy. */
  sendNow<T>(channel: Channel<T>, value: T): void;
  /** The reason given to `close`, `undefined` for a plain close. */
  closeReason<T>(channel: Channel<T>): unknown;
  receivers<T>(channel: Channel<T>): WaitQueue<ReceiverNode<T>>;
  senders<T>(channel: Channel<T>): WaitQueue<SenderNode<T>>;
  /** Calls `listener` once when the channel closes (at once if it already is), after close has done its work. */
  onClose<T>(channel: Channel<T>, listener: () => void): void;
}

/** Assigned once, by the static block of {@link Channel} through {@link setChannelCore}, before any channel exists. */
export let channelCore: ChannelCore;

/** Called once, by the static block of {@link Channel}. */
export function setChannelCore(core: ChannelCore): void {
  channelCore = core;
}

/**
 * Checks the options object of a synchronous call and its `signal` (an aborted signal is fine: the caller reacts to
 * it later); throws `TypeError` naming the argument and the value.
 */
export function checkSignalOptions<O extends { signal?: AbortSignal | undefined }>(
  where: string,
  options: O,
): O {
  if (typeof options !== 'object' || options === null) {
    throw invalid(where, 'options must be an object', options);
  }
  const signal: unknown = options.signal;
  if (signal !== undefined && !isAbortSignal(signal)) {
    throw invalid(where, 'signal must be an AbortSignal', signal);
  }
  return options;
}

/** Throws unless `capacity` is a non-negative integer or `Infinity`. */
export function assertCapacity(where: string, capacity: unknown): asserts capacity is number {
  if (typeof capacity !== 'number') {
    throw invalid(where, 'capacity must be a non-negative integer or Infinity', capacity);
  }
  if (capacity !== Infinity && !(Number.isInteger(capacity) && capacity >= 0)) {
    throw invalid(where, 'capacity must be a non-negative integer or Infinity', capacity, true);
  }
}

/** The error a receive gets from a closed, drained channel. */
export function receiveClosedError(reason: unknown): unknown {
  return reason === undefined ? new ChannelClosedError('receive from a closed channel') : reason;
}

/** The error a send gets from a closed channel; the close reason, if any, is its `cause`. */
export function sendClosedError(reason: unknown): ChannelClosedError {
  return reason === undefined
    ? new ChannelClosedError('send on a closed channel')
    : new ChannelClosedError('send on a closed channel', { cause: reason });
}
