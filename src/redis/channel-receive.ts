/**
 * The `receive` half of {@link RedisChannel}: each take is one script that reads the next new value for the group
 * with `NOACK` and deletes it (taken and finished at once: at most once). While nothing is there, one
 * `XREAD BLOCK` on a dedicated connection waits for an entry after the group's last delivered id (it takes
 * nothing, so an abort leaves no trace), then the waiters try again in arrival order.
 */
import { ChannelClosedError } from '../errors.js';
import { ignore } from '../internal/promise.js';
import { QueueWaiter } from '../internal/waiter.js';
import { WaitQueue } from '../internal/wait-queue.js';
import { BlockingConnection } from './blocking-connection.js';
import type { ChannelShared } from './channel-consumer.js';
import { redisError } from './remote-queue.js';
import { isTransient, type Script } from './script.js';
import { unref, type WakeListener } from './wake.js';

const RECEIVE = 'RedisChannel.receive';
/** Longest wait of one blocking read, so that a close made elsewhere is noticed within this long. */
const WATCH_MS = 1_000;
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 1_000;

class ReceiveWaiter<T> extends QueueWaiter<T, ReceiveWaiter<T>> {
  get operation(): string {
    return RECEIVE;
  }
}

type Taken = [1, string, string, string] | [0, number, string];

export class Receiver<T> implements WakeListener {
  private readonly queue = new WaitQueue<ReceiveWaiter<T>>();
  private running = false;
  private watcher: BlockingConnection | undefined = undefined;
  /** A value taken for a waiter that was cancelled meanwhile: the next waiter here gets it first. */
  private spare: { value: T } | undefined = undefined;
  /** Told of a close through Redis while waiting: a member `<wake channel> <id>` of the consumers set. */
  private readonly wakeId: string;
  private watching = false;

  constructor(
    private readonly shared: ChannelShared<T>,
    private readonly take: Script,
    private readonly consumer: string,
  ) {
    this.wakeId = shared.connection.newId();
  }

  /** The channel was closed: stop waiting and take (which then sees the close). */
  wake(): void {
    this.watcher?.unblock();
  }

  recheck(): void {
    this.wake();
  }

  receive(signal: AbortSignal | undefined, timeout: number | undefined): Promise<T> {
    const waiter = new ReceiveWaiter<T>(this.queue);
    const promise = waiter.wait(signal, timeout);
    this.queue.push(waiter);
    if (!this.running) void this.pump();
    return promise;
  }

  /** Serves waiters in order until none is left. */
  private async pump(): Promise<void> {
    this.running = true;
    let retries = 0;
    try {
      while (this.queue.length > 0) {
        if (this.spare !== undefined) {
          this.queue.shift()!.grant(this.spare.value);
          this.spare = undefined;
          continue;
        }
        let taken: Taken;
        try {
          taken = (await this.take.run(this.shared.connection, this.shared.keys, [
            this.shared.group,
            this.consumer,
          ])) as Taken;
          retries = 0;
        } catch (error) {
          if (!isTransient(error)) {
            for (const waiter of this.queue.drain())
              waiter.fail(redisError(RECEIVE, 'Redis command failed', error));
            return;
          }
          await new Promise((resolve) =>
            unref(setTimeout(resolve, Math.min(RETRY_MIN_MS * 2 ** retries++, RETRY_MAX_MS))),
          );
          continue;
        }
        if (taken[0] === 1) this.deliver(taken[2], taken[3]);
        else if (taken[1] === 1) {
          for (const waiter of this.queue.drain()) waiter.fail(new ChannelClosedError());
        } else await this.watch(taken[2]);
      }
    } finally {
      this.running = false;
      this.watcher?.close();
      this.watcher = undefined;
      if (this.watching) {
        this.watching = false;
        const { connection, keys } = this.shared;
        connection.unwatch(this.wakeId);
        connection.send(['SREM', keys[4]!, `${connection.channel} ${this.wakeId}`]).catch(ignore);
      }
    }
  }

  private deliver(field: string, text: string): void {
    let value: T;
    try {
      value = this.shared.codec.decode(field, text);
    } catch (error) {
      this.queue.shift()?.fail(error);
      return;
    }
    const waiter = this.queue.shift();
    if (waiter === undefined) this.spare = { value };
    else waiter.grant(value);
  }

  /** Waits until an entry after `last` exists (or a while passes, to see a close made elsewhere). */
  private async watch(last: string): Promise<void> {
    const { connection, keys } = this.shared;
    if (!this.watching) {
      this.watching = true;
      connection.watch(this.wakeId, this);
      await connection.send(['SADD', keys[4]!, `${connection.channel} ${this.wakeId}`]).catch(ignore);
    }
    this.watcher ??= new BlockingConnection(connection);
    try {
      await this.watcher.send([
        'XREAD',
        'COUNT',
        '1',
        'BLOCK',
        String(WATCH_MS),
        'STREAMS',
        this.shared.keys[0]!,
        last,
      ]);
    } catch {
      this.watcher.close();
      this.watcher = undefined;
      await new Promise((resolve) => unref(setTimeout(resolve, RETRY_MIN_MS)));
    }
  }
}
