/**
 * What a channel's two wait queues hold. A plain `receive`/`send`, an iterator's `next` and each case of a blocked
 * `select` are all entries of the same FIFO per channel; the channel only talks to them through these two shapes.
 *
 * The channel unlinks an entry before calling any of these methods, and calls at most one of them per entry, once.
 */
import type { WaitNode } from '../internal/wait-queue.js';

/** A parked receiver. */
export interface ReceiverNode<T> extends WaitNode {
  /** Hands over `value`; the receiver now owns it. */
  deliver(value: T): void;
  /** The channel closed with nothing left to receive; `reason` is the close reason (`undefined`: a plain close). */
  end(reason: unknown): void;
}

/** A parked sender. */
export interface SenderNode<T> extends WaitNode {
  /** The value waiting to be sent. */
  readonly value: T;
  /** {@link SenderNode.value} was taken (handed to a receiver or moved into the buffer). */
  taken(): void;
  /** The send failed: the channel closed while it waited. */
  reject(error: unknown): void;
}
