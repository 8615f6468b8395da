/**
 * The Redis client the user brings (ioredis or node-redis), behind one small interface: send a command, and open
 * the one extra connection weft needs while a process has waiters (a subscriber that hears grants). One
 * {@link RedisConnection} per user client, shared by every primitive built on it.
 */
import { invalid } from '../internal/validate.js';
import { WakeSubscriber, type WakeListener } from './wake.js';

/**
 * An ioredis client (`new Redis(...)`, ioredis >= 5). Only the members weft uses are listed, so weft needs neither
 * client installed to type-check.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisMutex, type IORedisLike } from 'weftjs/redis';
 *
 * const client: IORedisLike = new Redis();
 * const mutex = new RedisMutex(client, 'reports');
 * ```
 */
export interface IORedisLike {
  /** Sends any command: `call(name, ...args)`. */
  call(...args: never[]): unknown;
  /** A new connection with the same options. */
  duplicate(...args: never[]): unknown;
  /** The connection state (`'ready'`, `'end'`, ...). */
  readonly status: string;
}

/**
 * A node-redis client (`createClient(...)` from `redis` >= 4), connected by its owner.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis';
 * import { RedisMutex, type NodeRedisLike } from 'weftjs/redis';
 *
 * const client: NodeRedisLike = await createClient().connect();
 * const mutex = new RedisMutex(client, 'reports');
 * ```
 */
export interface NodeRedisLike {
  /** Sends any command: `sendCommand([name, ...args])`. */
  sendCommand(...args: never[]): unknown;
  /** A new, unconnected client with the same options. */
  duplicate(...args: never[]): unknown;
  /** True while the client is connected or connecting. */
  readonly isOpen: boolean;
}

/**
 * A Redis client weft can use: an ioredis (>= 5) or node-redis (>= 4) client. Both are optional peer dependencies.
 *
 * @example
 * ```ts
 * import Redis from 'ioredis';
 * import { RedisSemaphore, type RedisClient } from 'weftjs/redis';
 *
 * const client: RedisClient = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
 * const sem = new RedisSemaphore(client, 'payments-api', 8);
 * ```
 */
export type RedisClient = IORedisLike | NodeRedisLike;

interface Emitter {
  on?(event: string, listener: (...args: unknown[]) => void): unknown;
}

type Send = (args: string[]) => Promise<unknown>;

/** ioredis, node-redis, or `undefined` for anything else. */
function kindOf(client: unknown): 'ioredis' | 'node-redis' | undefined {
  if (client === null || typeof client !== 'object') return undefined;
  const c = client as Record<string, unknown>;
  if (typeof c.duplicate !== 'function') return undefined;
  if (typeof c.call === 'function' && typeof c.status === 'string') return 'ioredis';
  if (typeof c.sendCommand === 'function' && typeof c.isOpen === 'boolean') return 'node-redis';
  return undefined;
}

const connections = new WeakMap<object, RedisConnection>();

/** The shared connection of `client`; a `TypeError` naming `where` if it is neither ioredis nor node-redis. */
export function connectionOf(where: string, client: unknown): RedisConnection {
  const kind = kindOf(client);
  if (kind === undefined) {
    throw invalid(where, 'client must be an ioredis or node-redis client', client);
  }
  let connection = connections.get(client as object);
  if (connection === undefined) {
    connection = new RedisConnection(client as RedisClient, kind);
    connections.set(client as object, connection);
  }
  return connection;
}

let nextConnection = 0;

/** A short random name for this process's connection (the wake channel and every waiter id derive from it). */
function randomName(): string {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  let name = '';
  for (const byte of bytes) name += byte.toString(36).padStart(2, '0');
  return `${name}${(nextConnection++).toString(36)}`;
}

/**
 * One user client as weft sees it. It also keeps the latest pairing of Redis time with local time: a grant
 * announced in Redis time is turned into a local deadline with it, conservatively (the local time is taken when
 * the command was sent, before Redis read its clock).
 */
export class RedisConnection {
  /** This connection's name; waiter ids are `${name}:${n}`. */
  readonly name = randomName();
  readonly send: Send;
  /** Redis time (ms) read by the latest script whose reply arrived, and the local time its command was sent. */
  private redisTime = 0;
  private sentAt = -Infinity;
  private nextId = 0;
  private readonly wake: WakeSubscriber;

  constructor(
    readonly client: RedisClient,
    readonly kind: 'ioredis' | 'node-redis',
  ) {
    if (kind === 'ioredis') {
      const io = client as unknown as { call(...args: string[]): Promise<unknown> };
      this.send = (args) => io.call(...args);
    } else {
      const node = client as unknown as { sendCommand(args: string[]): Promise<unknown> };
      this.send = (args) => node.sendCommand(args);
    }
    this.wake = new WakeSubscriber(this);
    // The user quitting their client ends ours at once, so that the process can exit.
    (client as Emitter).on?.('end', () => this.wake.close());
  }

  /** The channel grants for this connection's waiters are published on. */
  get channel(): string {
    return `weft:wake:${this.name}`;
  }

  /** A new waiter id, unique across processes. */
  newId(): string {
    return `${this.name}:${(this.nextId++).toString(36)}`;
  }

  /** Records a reply's Redis time (ms) for a command sent at local time `sentAt` (`performance.now()`). */
  observe(redisTime: number, sentAt: number): void {
    if (sentAt >= this.sentAt) {
      this.redisTime = redisTime;
      this.sentAt = sentAt;
    }
  }

  /** The local time (`performance.now()` scale) by which Redis time `at` has surely not yet been reached. */
  localDeadline(at: number): number {
    return this.sentAt + (at - this.redisTime);
  }

  /** Routes grants for waiter `id` to `listener` until {@link unwatch}; opens the subscriber if needed. */
  watch(id: string, listener: WakeListener): void {
    this.wake.add(id, listener);
  }

  /** Routes grants for `id` to `listener` if the subscriber is open already (it is not opened for this). */
  routeIfOpen(id: string, listener: WakeListener): void {
    this.wake.routeIfOpen(id, listener);
  }

  /** Stops routing grants for `id`; the subscriber closes once nobody waits. */
  unwatch(id: string): void {
    this.wake.remove(id);
  }

  /** A second connection of the same client (ioredis connects it; node-redis needs `connect()`). */
  duplicate(): unknown {
    return (this.client as unknown as { duplicate(): unknown }).duplicate();
  }
}
