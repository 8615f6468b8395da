/**
 * The sending half of {@link RedisChannel}: sends made in the same tick go to Redis together, in order, as one
 * script call (one `XADD` each). With a `capacity`, the script adds what fits and registers this sender as
 * blocked; a finish anywhere publishes a wake-up on this process's wake channel and the rest are tried again.
 * Nothing polls. A send whose batch is in flight when it is aborted waits for the reply: if its value was added
 * it resolves (it was sent), otherwise it rejects with the abort reason, so an aborted send leaves no value behind.
 */
import { ChannelClosedError } from '../errors.js';
import { Waiter } from '../internal/waiter.js';
import { WaitQueue } from '../internal/wait-queue.js';
import type { RedisConnection } from './client.js';
import type { Stored } from './channel-codec.js';
import { redisError } from './remote-queue.js';
import { isTransient, type Script } from './script.js';
import { unref, type WakeListener } from './wake.js';

/** Most values sent in one script call. */
const MAX_BATCH = 512;
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 1_000;
const SEND = 'RedisChannel.send';

class SendWaiter extends Waiter<void> {
  inFlight = false;
  cancelled = false;
  reason: unknown = undefined;

  constructor(
    readonly sender: Sender,
    readonly stored: Stored,
  ) {
    super();
  }

  get operation(): string {
    return SEND;
  }

  cancel(reason: unknown): void {
    if (this.inFlight) {
      // Decided by the reply of the batch carrying it.
      this.cancelled = true;
      this.reason = reason;
      return;
    }
    this.sender.queue.remove(this);
    this.fail(reason);
    this.sender.idle();
  }
}

export class Sender implements WakeListener {
  readonly queue = new WaitQueue<SendWaiter>();
  /** Set once Redis said the channel is closed (or this process closed it): sends reject at once. */
  closed = false;
  private readonly id: string;
  private readonly member: string;
  private state: 'idle' | 'scheduled' | 'flushing' | 'blocked' = 'idle';
  private watching = false;
  /** A wake-up arrived while a batch was in flight: its reply may say "blocked" after the slot was freed. */
  private woken = false;
  private retries = 0;

  constructor(
    private readonly connection: RedisConnection,
    private readonly script: Script,
    private readonly keys: readonly string[],
    private readonly capacity: number,
  ) {
    this.id = connection.newId();
    this.member = `${connection.channel} ${this.id}`;
  }

  send(stored: Stored, signal: AbortSignal | undefined, timeout: number | undefined): Promise<void> {
    const waiter = new SendWaiter(this, stored);
    const promise = waiter.wait(signal, timeout);
    this.queue.push(waiter);
    if (this.state === 'idle') this.schedule();
    return promise;
  }

  /** Rejects every queued send with `ChannelClosedError` and refuses later ones. */
  close(): void {
    this.closed = true;
    for (const waiter of this.queue.drain()) {
      if (waiter.inFlight) this.queue.push(waiter);
      else waiter.fail(new ChannelClosedError());
    }
    this.idle();
  }

  wake(): void {
    if (this.state === 'blocked') this.schedule();
    else if (this.state === 'flushing') this.woken = true;
  }

  recheck(): void {
    this.wake();
  }

  /** Stops listening for wake-ups once nobody waits. */
  idle(): void {
    if (this.queue.length > 0 || !this.watching) return;
    this.watching = false;
    this.connection.unwatch(this.id);
  }

  private schedule(): void {
    this.state = 'scheduled';
    queueMicrotask(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const batch: SendWaiter[] = [];
    const args = [String(this.capacity === Infinity ? 0 : this.capacity), this.member];
    for (let w = this.queue.peek(); w !== undefined && batch.length < MAX_BATCH; w = this.queue.after(w)) {
      w.inFlight = true;
      batch.push(w);
      args.push(w.stored[0], w.stored[1]);
    }
    if (batch.length === 0) {
      this.state = 'idle';
      return;
    }
    this.state = 'flushing';
    this.woken = false;
    let added: number;
    try {
      added = Number(await this.script.run(this.connection, this.keys, args));
    } catch (error) {
      this.failed(batch, error);
      return;
    }
    this.retries = 0;
    if (added < 0) {
      this.settle(batch, 0);
      this.state = 'idle';
      this.close();
      return;
    }
    this.settle(batch, added);
    if (added < batch.length && this.queue.length > 0 && !this.woken) {
      this.state = 'blocked';
      if (!this.watching) {
        this.watching = true;
        this.connection.watch(this.id, this);
      }
    } else if (this.queue.length > 0) {
      this.schedule();
    } else {
      this.state = 'idle';
    }
    this.idle();
  }

  /** The first `added` of `batch` were sent; the others go back to waiting, or reject if cancelled meanwhile. */
  private settle(batch: SendWaiter[], added: number): void {
    for (let i = 0; i < batch.length; i++) {
      const waiter = batch[i]!;
      waiter.inFlight = false;
      if (i < added) {
        this.queue.remove(waiter);
        waiter.grant(undefined);
      } else if (waiter.cancelled) {
        this.queue.remove(waiter);
        waiter.fail(waiter.reason);
      }
    }
  }

  /** A lost connection is retried (the batch may then be added twice); any other error rejects the batch. */
  private failed(batch: SendWaiter[], error: unknown): void {
    if (!isTransient(error)) {
      for (const waiter of batch) {
        waiter.inFlight = false;
        this.queue.remove(waiter);
        waiter.fail(redisError(SEND, 'Redis command failed', error));
      }
      this.state = 'idle';
      if (this.queue.length > 0) this.schedule();
      return;
    }
    this.settle(batch, 0);
    this.state = 'blocked';
    const delay = Math.min(RETRY_MIN_MS * 2 ** this.retries++, RETRY_MAX_MS);
    unref(setTimeout(retry, delay, this));
    this.idle();
  }
}

function retry(sender: Sender): void {
  sender.wake();
}
