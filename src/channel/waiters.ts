/**
 * The waiters of a plain `Channel.send` and `Channel.receive`: queue nodes that settle the caller's promise. A
 * channel keeps one finished waiter of each kind for reuse, so a busy hand-off allocates none.
 */
import { QueueWaiter } from '../internal/waiter.js';
import type { WaitQueue } from '../internal/wait-queue.js';
import { receiveClosedError } from './core.js';
import type { ReceiverNode, SenderNode } from './nodes.js';

// Fields are `declare`d and assigned in the constructor: parameter properties would define each field twice.
export class ReceiveWaiter<T> extends QueueWaiter<T, ReceiverNode<T>> implements ReceiverNode<T> {
  get operation(): string {
    return 'Channel.receive';
  }

  deliver(value: T): void {
    this.grant(value);
  }

  end(reason: unknown): void {
    this.fail(receiveClosedError(reason));
  }
}

export class SendWaiter<T> extends QueueWaiter<void, SenderNode<T>> implements SenderNode<T> {
  declare value: T;

  constructor(queue: WaitQueue<SenderNode<T>>, value: T) {
    super(queue);
    this.value = value;
  }

  get operation(): string {
    return 'Channel.send';
  }

  taken(): void {
    this.grant(undefined);
  }

  reject(error: unknown): void {
    this.fail(error);
  }
}
