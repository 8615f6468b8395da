import { ChannelClosedError } from '../errors.js';
import { waitOptionsError, waitOptionsTypeError } from '../internal/waiter.js';
import { rejected } from '../internal/promise.js';
import {
  assertFunction,
  assertPositiveInteger,
  invalid,
  nonNegativeNumberError,
} from '../internal/validate.js';
import type { WaitOptions } from '../types.js';
import { connectionOf, type RedisClient } from './client.js';
import { Codec, type RedisChannelCodec } from './channel-codec.js';
import { Consumer, type ChannelShared, type RedisChannelHandler } from './channel-consumer.js';
import { CLOSE_LUA, DEAD_LUA, FINISH_LUA, SCAN_LUA, SEND_LUA, TAKE_LUA } from './channel-lua.js';
import { Receiver } from './channel-receive.js';
import { Sender } from './channel-send.js';
import { channelKeys, prefixOf } from './keys.js';
import { redisError } from './remote-queue.js';
import { Script } from './script.js';

const scripts = {
  send: new Script(SEND_LUA),
  finish: new Script(FINISH_LUA),
  dead: new Script(DEAD_LUA),
  close: new Script(CLOSE_LUA),
  take: new Script(TAKE_LUA),
  scan: new Script(SCAN_LUA),
};

/**
 * Options of a {@link RedisChannel}.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisChannel, type RedisChannelOptions } from 'weftjs/redis';
 *
 * const opts: RedisChannelOptions<{ url: string }> = { capacity: 10_000, visibility: 60_000, maxAttempts: 5 };
 * const crawl = new RedisChannel(new Redis(), 'crawl', opts);
 * ```
 */
export interface RedisChannelOptions<T> {
  /** The consumer group (default `'weft'`). One group per channel name: a finished value is removed from the stream. */
  group?: string;
  /** This process's consumer name in the group (default: a random name per `process` call). */
  consumer?: string;
  /** Most values sent but not yet finished; `send` waits beyond that (default `Infinity`). */
  capacity?: number;
  /** Ms before a delivery that is not finished is given to another consumer (default 30 000). */
  visibility?: number;
  /** Attempts of a value whose handler throws before it goes to the dead letters `<name>:dead` (default 3). */
  maxAttempts?: number;
  /** How values are stored (default JSON). */
  codec?: RedisChannelCodec<T>;
  /** Key prefix (default `'weft:'`): the stream is `<prefix>{<name>}`, the dead letters `<prefix>{<name>}:dead`. */
  prefix?: string;
}

/**
 * Options of {@link RedisChannel.process}.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisChannel, type RedisChannelProcessOptions } from 'weftjs/redis';
 *
 * const opts: RedisChannelProcessOptions = { concurrency: 8, signal: AbortSignal.timeout(60_000) };
 * await new RedisChannel<string>(new Redis(), 'mail').process(async (to) => console.log(to), opts);
 * ```
 */
export interface RedisChannelProcessOptions {
  /** Handlers running at once in this process (default 1). */
  concurrency?: number;
  /** Stops this consumer: running handlers see `ctx.signal` abort, their values are handed back, and `process` rejects with the reason. */
  signal?: AbortSignal;
}

const WHERE = 'RedisChannel';

function nonEmptyString(name: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.length === 0)
    throw invalid(WHERE, `${name} must be a non-empty string`, value);
  return value;
}

let nextConsumer = 0;

/**
 * A work queue shared by every process that uses the same Redis and name: producers anywhere {@link send},
 * consumers anywhere {@link process} with a concurrency. Values live in a Redis Stream read by a consumer group.
 *
 * - With no crash, every value sent is handled to completion by exactly one handler. A consumer that dies, or whose
 *   handler outlives `visibility`, leaves its unfinished values to live consumers: at least once, nothing lost.
 * - A handler that throws is retried (`ctx.attempt` counts) up to `maxAttempts`; then the value moves to the
 *   dead-letter stream `<prefix>{<name>}:dead` with the error's message (fields `v`/`b`, `error`, `id`, `attempts`).
 * - {@link receive} and `for await` take a value and acknowledge it at once: at most once (a process that dies
 *   right after taking it loses it). Use {@link process} for the at-least-once path.
 * - {@link close} is seen by every process: consumers drain what was sent before it, then `process` and
 *   `for await` end; later sends reject `ChannelClosedError`.
 * - Finished values are deleted from the stream, so it holds only unfinished ones.
 *
 * @example Producers and consumers in different processes
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisChannel } from 'weftjs/redis';
 * import { WorkerPool } from 'weftjs/pool';
 *
 * const jobs = new RedisChannel<{ image: string }>(new Redis(), 'thumbnails', { capacity: 1_000 });
 * // In the producer:
 * await jobs.send({ image: 's3://photos/1.jpg' });
 * // In each consumer (one per host): CPU work on every core of the host.
 * const pool = new WorkerPool({ worker: new URL('./resize.js', import.meta.url) });
 * await jobs.process((job, { signal }) => pool.run('resize', [job.image], { signal }), { concurrency: 8 });
 * ```
 */
export class RedisChannel<T> implements AsyncIterable<T> {
  readonly #shared: ChannelShared<T>;
  readonly #sender: Sender;
  readonly #consumerName: string | undefined;
  #receiver: Receiver<T> | undefined = undefined;

  /**
   * @param client - An ioredis or node-redis client; blocking reads use connections made with its `duplicate()`.
   * @param name - The channel's name, a non-empty string; every process using it shares its values.
   * @param opts - `group`, `consumer`, `capacity`, `visibility` (ms), `maxAttempts`, `codec`, `prefix`.
   * @throws `TypeError` for a client that is neither ioredis nor node-redis, a bad name or option; `RangeError` for
   *   a number out of range.
   *
   * @example
   * ```ts
   * import { createClient } from 'redis';
   * import { RedisChannel } from 'weftjs/redis';
   *
   * const client = await createClient().connect();
   * const emails = new RedisChannel<string>(client, 'emails', { visibility: 120_000, maxAttempts: 5 });
   * ```
   */
  constructor(client: RedisClient, name: string, opts?: RedisChannelOptions<T>) {
    const connection = connectionOf(WHERE, client);
    if (typeof name !== 'string' || name.length === 0)
      throw invalid(WHERE, 'name must be a non-empty string', name);
    if (opts !== undefined && (opts === null || typeof opts !== 'object')) {
      throw invalid(WHERE, 'options must be an object', opts);
    }
    const { capacity = Infinity, visibility = 30_000, maxAttempts = 3, codec } = opts ?? {};
    if (capacity !== Infinity) assertPositiveInteger(WHERE, 'capacity', capacity);
    const visibilityError = nonNegativeNumberError(
      WHERE,
      'visibility must be a positive number of ms',
      visibility,
    );
    if (visibilityError !== undefined) throw visibilityError;
    if (visibility === 0 || visibility === Infinity) {
      throw invalid(WHERE, 'visibility must be a positive number of ms', visibility, true);
    }
    assertPositiveInteger(WHERE, 'maxAttempts', maxAttempts);
    if (codec !== undefined) {
      if (codec === null || typeof codec !== 'object') throw invalid(WHERE, 'codec must be an object', codec);
      const { encode, decode } = codec as unknown as Record<string, unknown>;
      assertFunction(WHERE, 'codec.encode', encode);
      assertFunction(WHERE, 'codec.decode', decode);
    }
    this.#consumerName =
      opts?.consumer === undefined ? undefined : nonEmptyString('consumer', opts.consumer, '');
    const keys = channelKeys(prefixOf(WHERE, opts?.prefix), name);
    this.#shared = {
      connection,
      keys,
      group: nonEmptyString('group', opts?.group, 'weft'),
      codec: new Codec(codec),
      visibility,
      maxAttempts,
      scripts,
    };
    this.#sender = new Sender(connection, scripts.send, keys, capacity);
  }

  /**
   * Sends a value. Sends made in the same tick reach Redis together, in order. With a `capacity`, waits (woken
   * through Redis, no polling) while that many values are sent but unfinished.
   *
   * @param value - Any value the codec can carry (JSON by default: `undefined`, functions, BigInts and cycles are
   *   refused with a `TypeError`, nothing written).
   * @param opts - `signal` and `timeout` (ms) for the wait for room; an aborted send leaves no value behind.
   * @returns Resolves once the value is stored in Redis.
   * @throws Rejects `ChannelClosedError` once the channel is closed (by any process).
   *
   * @example
   * ```ts
   * import Redis from 'ioredis';
   * import { RedisChannel } from 'weftjs/redis';
   *
   * const jobs = new RedisChannel<number>(new Redis(), 'squares', { capacity: 100 });
   * await Promise.all([1, 2, 3].map((n) => jobs.send(n, { timeout: 5_000 })));
   * ```
   */
  send(value: T, opts?: WaitOptions): Promise<void> {
    const where = `${WHERE}.send`;
    const error = waitOptionsError(where, opts);
    if (error !== undefined) return rejected(error);
    if (this.#sender.closed) return rejected(new ChannelClosedError());
    let stored;
    try {
      stored = this.#shared.codec.encode(where, value);
    } catch (encodeError) {
      return rejected(encodeError);
    }
    return this.#sender.send(stored, opts?.signal, opts?.timeout);
  }

  /**
   * Takes the next value and acknowledges it at once: at most once (if this process dies before using it, it is
   * lost). Waiting receivers of a process are served in order.
   *
   * @param opts - `signal` and `timeout` (ms); an aborted receive takes nothing.
   * @returns The value.
   * @throws Rejects `ChannelClosedError` once the channel is closed and nothing is left to take.
   *
   * @example
   * ```ts
   * import Redis from 'ioredis';
   * import { RedisChannel } from 'weftjs/redis';
   *
   * const events = new RedisChannel<string>(new Redis(), 'events');
   * const next = await events.receive({ timeout: 1_000 });
   * ```
   */
  receive(opts?: WaitOptions): Promise<T> {
    const error = waitOptionsError(`${WHERE}.receive`, opts);
    if (error !== undefined) return rejected(error);
    this.#receiver ??= new Receiver(
      this.#shared,
      scripts.take,
      this.#consumerName ?? this.#newConsumerName(),
    );
    return this.#receiver.receive(opts?.signal, opts?.timeout);
  }

  /**
   * Runs `handler` on values as they come, `concurrency` at a time, until the channel is closed and everything
   * sent before the close is finished. At least once: a value is finished (acknowledged and deleted) when its
   * handler returns; if the handler throws it is retried here up to `maxAttempts`, then dead-lettered; if this
   * process dies or the handler outlives `visibility`, another consumer gets the value.
   *
   * @param handler - Called with the value and `{ signal, attempt }`; its result may be a promise.
   * @param opts - `concurrency` (default 1) and `signal` to stop this consumer.
   * @returns Resolves when the channel is closed and drained; rejects with `signal.reason` when stopped.
   *
   * @example
   * ```ts
   * import Redis from 'ioredis';
   * import { RedisChannel } from 'weftjs/redis';
   *
   * const orders = new RedisChannel<{ id: string }>(new Redis(), 'orders', { maxAttempts: 5 });
   * await orders.process(
   *   async (order, { signal, attempt }) => {
   *     const res = await fetch(`https://billing.example/charge/${order.id}`, { method: 'POST', signal });
   *     if (!res.ok) throw new Error(`charge failed (attempt ${attempt}): ${res.status}`);
   *   },
   *   { concurrency: 16 },
   * );
   * ```
   */
  process(handler: RedisChannelHandler<T>, opts?: RedisChannelProcessOptions): Promise<void> {
    const where = `${WHERE}.process`;
    try {
      assertFunction(where, 'handler', handler);
      const optionsError = waitOptionsTypeError(where, opts);
      if (optionsError !== undefined) throw optionsError;
      if (opts?.concurrency !== undefined) assertPositiveInteger(where, 'concurrency', opts.concurrency);
    } catch (error) {
      return rejected(error);
    }
    const signal = opts?.signal;
    if (signal?.aborted === true) return rejected(signal.reason);
    const name = this.#consumerName ?? this.#newConsumerName();
    return new Consumer(this.#shared, name, handler, opts?.concurrency ?? 1, signal).run();
  }

  /**
   * Closes the channel for every process: later sends reject `ChannelClosedError` (here at once, elsewhere at
   * their next send), consumers drain what was sent before, then `process` and `for await` end. Idempotent.
   *
   * @example
   * ```ts
   * import Redis from 'ioredis';
   * import { RedisChannel } from 'weftjs/redis';
   *
   * const jobs = new RedisChannel<number>(new Redis(), 'batch-7');
   * for (let i = 0; i < 100; i++) await jobs.send(i);
   * await jobs.close(); // consumers finish the 100, then stop
   * ```
   */
  async close(): Promise<void> {
    const { connection, keys } = this.#shared;
    try {
      await scripts.close.run(connection, keys, []);
    } catch (error) {
      throw redisError(`${WHERE}.close`, 'Redis command failed', error);
    }
    this.#sender.close();
  }

  /**
   * `for await (const value of channel)`: {@link receive} until the channel is closed and drained (at most once).
   * `break` leaves the channel open.
   *
   * @example
   * ```ts
   * import Redis from 'ioredis';
   * import { RedisChannel } from 'weftjs/redis';
   *
   * for await (const line of new RedisChannel<string>(new Redis(), 'log-lines')) console.log(line);
   * ```
   */
  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      try {
        yield await this.receive();
      } catch (error) {
        if (error instanceof ChannelClosedError) return;
        throw error;
      }
    }
  }

  #newConsumerName(): string {
    return `${this.#shared.connection.name}:c${(nextConsumer++).toString(36)}`;
  }
}
