/**
 * One `RedisChannel.process` call: a member of the stream's consumer group that reads new values with
 * `XREADGROUP BLOCK` on a dedicated connection (only as many as it has free slots), runs the handler on each,
 * and batches the acknowledgements. Every `scanEvery` ms, and whenever a read comes back empty, it runs the scan
 * script: that claims deliveries older than `visibility` (a consumer died or is too slow) and tells whether the
 * channel is closed and drained, which ends the call.
 */
import { ignore } from '../internal/promise.js';
import { BlockingConnection } from './blocking-connection.js';
import type { Codec } from './channel-codec.js';
import type { RedisConnection } from './client.js';
import { redisError } from './remote-queue.js';
import { redisErrorCode, isTransient, type Script } from './script.js';
import { unref, type WakeListener } from './wake.js';

/**
 * What a `RedisChannel.process` handler is told about the delivery it runs.
 *
 * @example Give up early on a value that keeps failing, and pass the stop signal on
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisChannel, type RedisChannelContext } from 'weftjs/redis';
 *
 * async function upload(url: string, ctx: RedisChannelContext): Promise<void> {
 *   const res = await fetch(url, { method: 'PUT', signal: ctx.signal });
 *   if (!res.ok) throw new Error(`upload failed on attempt ${ctx.attempt}: ${res.status}`);
 * }
 * await new RedisChannel<string>(new Redis(), 'uploads').process(upload, { concurrency: 4 });
 * ```
 */
export interface RedisChannelContext {
  /** Aborts when this consumer is stopped (the `signal` given to `process`); the value is then handed back. */
  readonly signal: AbortSignal;
  /** 1 on the first delivery, 2 on the first retry or redelivery, and so on. */
  readonly attempt: number;
}

/**
 * A handler of `RedisChannel.process`: the value is finished when it returns (or its promise fulfils), and
 * retried when it throws.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisChannel, type RedisChannelHandler } from 'weftjs/redis';
 *
 * const resize: RedisChannelHandler<{ image: string }> = async (job, { attempt }) => {
 *   console.log(`resizing ${job.image}, attempt ${attempt}`);
 * };
 * await new RedisChannel<{ image: string }>(new Redis(), 'thumbnails').process(resize);
 * ```
 */
export type RedisChannelHandler<T> = (value: T, ctx: RedisChannelContext) => unknown;

/** Everything a consumer shares with its channel. */
export interface ChannelShared<T> {
  readonly connection: RedisConnection;
  readonly keys: readonly string[];
  readonly group: string;
  readonly codec: Codec<T>;
  readonly visibility: number;
  readonly maxAttempts: number;
  readonly scripts: { readonly finish: Script; readonly dead: Script; readonly scan: Script };
}

const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 1_000;
/** Consumers idle this long (and at least 10 visibilities) with nothing pending are removed from the group. */
const STALE_MS = 600_000;
/** How often a consumer of a closed channel looks whether the last values are finished. */
const DRAIN_SCAN_MS = 25;
/** How often a consumer looks for stale ones. */
const TIDY_EVERY_MS = 60_000;

type Entry = [id: string, fields: [string, string] | null];

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => unref(setTimeout(resolve, ms)));
}

/** Acknowledges finished values in batches: while one batch is in flight, the next one gathers. */
class Finisher {
  private ids: string[] = [];
  private flushing: Promise<void> | undefined = undefined;

  constructor(private readonly shared: ChannelShared<unknown>) {}

  add(id: string): void {
    this.ids.push(id);
    this.flushing ??= this.flush();
  }

  /** Resolves once every finished value is acknowledged. */
  async drain(): Promise<void> {
    while (this.flushing !== undefined) await this.flushing;
  }

  private async flush(): Promise<void> {
    let retries = 0;
    while (this.ids.length > 0) {
      const batch = this.ids;
      this.ids = [];
      const { connection, keys, group, scripts } = this.shared;
      try {
        await scripts.finish.run(connection, keys, [group, ...batch]);
        retries = 0;
      } catch (error) {
        // Not acknowledged: retried while Redis is away; otherwise the values come back after `visibility`.
        if (!isTransient(error)) continue;
        this.ids = batch.concat(this.ids);
        await sleep(Math.min(RETRY_MIN_MS * 2 ** retries++, RETRY_MAX_MS));
      }
    }
    this.flushing = undefined;
  }
}

export class Consumer<T> implements WakeListener {
  private readonly controller = new AbortController();
  private readonly finisher: Finisher;
  private scanEvery: number;
  /** Deliveries whose handler has not settled, by id. */
  private readonly active = new Set<string>();
  /** Deliveries left unfinished by a stop: handed back for another consumer. */
  private readonly unfinished: string[] = [];
  private reader: BlockingConnection | undefined = undefined;
  private notify: (() => void) | undefined = undefined;
  private stopped = false;
  private stopReason: unknown = undefined;
  private lastScan = -Infinity;
  private lastTidy = performance.now();
  /** Told of a close through Redis: a member `<wake channel> <id>` of the channel's consumers set. */
  private readonly wakeId: string;

  constructor(
    private readonly shared: ChannelShared<T>,
    private readonly name: string,
    private readonly handler: RedisChannelHandler<T>,
    private readonly concurrency: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    this.finisher = new Finisher(shared);
    this.scanEvery = Math.min(Math.max(shared.visibility / 4, 10), 1_000);
    this.wakeId = shared.connection.newId();
  }

  /** Runs until the channel is closed and drained (resolves) or the signal aborts (rejects with its reason). */
  async run(): Promise<void> {
    const { connection, keys } = this.shared;
    this.signal?.addEventListener('abort', this);
    connection.watch(this.wakeId, this);
    this.reader = new BlockingConnection(connection);
    try {
      await this.loop();
    } finally {
      this.signal?.removeEventListener('abort', this);
      connection.unwatch(this.wakeId);
      connection.send(['SREM', keys[4]!, `${connection.channel} ${this.wakeId}`]).catch(ignore);
      this.reader.close();
      while (this.active.size > 0) await this.changed();
      await this.finisher.drain();
      await this.handBack();
    }
    if (this.stopped) throw this.stopReason;
  }

  /** The stop signal aborted. */
  handleEvent(): void {
    this.stopped = true;
    this.stopReason = this.signal!.reason;
    this.controller.abort(this.stopReason);
    this.reader?.close();
    this.wakeLoop();
  }

  /** The channel was closed (or the wake subscriber reconnected): scan now rather than at the next scan. */
  wake(): void {
    this.lastScan = -Infinity;
    this.reader?.unblock();
  }

  recheck(): void {
    this.lastScan = -Infinity;
  }

  private async loop(): Promise<void> {
    let retries = 0;
    while (!this.stopped) {
      const free = this.concurrency - this.active.size;
      if (free <= 0) {
        await this.changed();
        continue;
      }
      try {
        if (performance.now() - this.lastScan >= this.scanEvery) {
          if (await this.scan(free)) return;
        } else {
          await this.read(free);
        }
        retries = 0;
      } catch (error) {
        if (this.stopped) return;
        if (redisErrorCode(error) === 'NOGROUP') {
          // Redis lost the group (a restart): the scan creates it again.
          this.lastScan = -Infinity;
          continue;
        }
        if (!isTransient(error)) throw redisError('RedisChannel.process', 'Redis command failed', error);
        if (this.reader!.closed) this.reader = new BlockingConnection(this.shared.connection);
        await sleep(Math.min(RETRY_MIN_MS * 2 ** retries++, RETRY_MAX_MS));
      }
    }
  }

  /** Claims stale deliveries; true when the channel is closed and everything sent to it is finished. */
  private async scan(free: number): Promise<boolean> {
    const now = performance.now();
    this.lastScan = now;
    const tidy = now - this.lastTidy >= TIDY_EVERY_MS;
    if (tidy) this.lastTidy = now;
    const { connection, keys, group, visibility, scripts } = this.shared;
    const staleAfter = tidy ? Math.max(STALE_MS, visibility * 10) : 0;
    const reply = (await scripts.scan.run(connection, keys, [
      group,
      this.name,
      String(Math.ceil(visibility)),
      String(free),
      String(staleAfter),
      `${connection.channel} ${this.wakeId}`,
    ])) as unknown[];
    for (let i = 3; i + 3 < reply.length; i += 4) {
      // A delivery of ours that outlived `visibility` and came back to us is already running here.
      if (!this.active.has(String(reply[i])))
        void this.handle(String(reply[i]), Number(reply[i + 1]), reply[i + 2], reply[i + 3]);
    }
    if (reply[0] !== 1) return false;
    // Closed: draining. Other consumers' last values finish without telling us, so look again soon.
    this.scanEvery = Math.min(this.scanEvery, DRAIN_SCAN_MS);
    return reply[1] === 0 && reply[2] === 0 && this.active.size === 0;
  }

  /** Reads up to `free` new values, blocking until the next scan is due. */
  private async read(free: number): Promise<void> {
    const block = Math.max(1, Math.ceil(this.scanEvery - (performance.now() - this.lastScan)));
    const { group, keys } = this.shared;
    const reply = (await this.reader!.send([
      'XREADGROUP',
      'GROUP',
      group,
      this.name,
      'COUNT',
      String(free),
      'BLOCK',
      String(block),
      'STREAMS',
      keys[0]!,
      '>',
    ])) as [string, Entry[]][] | null;
    const entries = reply?.[0]?.[1];
    if (entries === undefined || entries.length === 0) {
      // Nothing new: a good moment to look for a close or for stale deliveries.
      this.lastScan = -Infinity;
      return;
    }
    for (const [id, fields] of entries) {
      if (fields !== null) void this.handle(id, 1, fields[0], fields[1]);
    }
  }

  /** Runs the handler on one delivery, retrying it here after an error up to `maxAttempts`. */
  private async handle(id: string, attempt: number, field: unknown, text: unknown): Promise<void> {
    this.active.add(id);
    const { codec, maxAttempts } = this.shared;
    let failure: unknown;
    let done = false;
    let value: T;
    try {
      value = codec.decode(field, text);
    } catch (error) {
      // A value that cannot be decoded never will be: straight to the dead letters.
      await this.dead(id, field, text, error, attempt);
      this.settled(id);
      return;
    }
    for (;;) {
      try {
        await this.handler(value, { signal: this.controller.signal, attempt });
        done = true;
      } catch (error) {
        failure = error;
      }
      if (done || this.stopped || attempt >= maxAttempts) break;
      if (!(await this.retry(id, attempt + 1))) break;
      attempt++;
    }
    if (done) this.finisher.add(id);
    else if (this.stopped) this.unfinished.push(id);
    else if (attempt >= maxAttempts) await this.dead(id, field, text, failure, attempt);
    this.settled(id);
  }

  /** Records the next attempt in Redis (and restarts its visibility); false if the delivery is no longer ours. */
  private async retry(id: string, attempt: number): Promise<boolean> {
    const { connection, keys, group } = this.shared;
    try {
      const claimed = (await connection.send([
        'XCLAIM',
        keys[0]!,
        group,
        this.name,
        '0',
        id,
        'RETRYCOUNT',
        String(attempt),
        'JUSTID',
      ])) as unknown[];
      return claimed.length > 0;
    } catch {
      return false;
    }
  }

  private async dead(
    id: string,
    field: unknown,
    text: unknown,
    error: unknown,
    attempts: number,
  ): Promise<void> {
    const { connection, keys, group, scripts } = this.shared;
    const message = error instanceof Error ? error.message : String(error);
    const args = [group, id, String(field), String(text), message, String(attempts)];
    // If this fails the value stays pending and comes back after `visibility`.
    await scripts.dead.run(connection, keys, args).catch(ignore);
  }

  /** Makes values this stopped consumer did not finish claimable by others at once. */
  private async handBack(): Promise<void> {
    if (this.unfinished.length === 0) return;
    const { connection, keys, group, visibility } = this.shared;
    const ids = this.unfinished.splice(0);
    const idle = String(Math.ceil(visibility));
    await connection
      .send(['XCLAIM', keys[0]!, group, this.name, '0', ...ids, 'IDLE', idle, 'JUSTID'])
      .catch(ignore);
  }

  private settled(id: string): void {
    this.active.delete(id);
    this.wakeLoop();
  }

  private wakeLoop(): void {
    const notify = this.notify;
    this.notify = undefined;
    notify?.();
  }

  /** Resolves at the next settled handler (or stop). */
  private changed(): Promise<void> {
    return new Promise((resolve) => (this.notify = resolve));
  }
}
