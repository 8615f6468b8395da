/**
 * The local half of a Redis wait queue, shared by {@link RedisSemaphore}, {@link RedisMutex} and
 * {@link RedisRateLimiter}: it sends `acquire`, and for a waiter Redis queued it listens for the grant on the wake
 * channel, keeps the waiter alive with heartbeats (which also find grants whose message was missed, and put the
 * waiter back after Redis lost its queue), and withdraws it on abort or timeout. Nothing here polls: a heartbeat
 * runs every third of the waiter lifetime, or when Redis says the head's turn comes (a lease or a window ending).
 */
import { Waiter, timeoutError, timerDelay, waitOptionsError } from '../internal/waiter.js';
import { ignore, rejected } from '../internal/promise.js';
import type { WaitOptions } from '../types.js';
import type { RedisConnection } from './client.js';
import { isTransient, type Script } from './script.js';
import { unref, type WakeListener } from './wake.js';

/** The names a primitive uses in its messages. */
export interface RemoteNames {
  readonly owner: string;
  readonly acquire: string;
  readonly tryAcquire: string;
  readonly run: string;
}

/** Wraps a Redis or connection error for a caller: `where: message`, with the client's error as `cause`. */
export function redisError(where: string, message: string, cause: unknown): Error {
  return new Error(`${where}: ${message}`, { cause });
}

/** First retry delay after a failed command; it doubles up to {@link RETRY_MAX_MS}. */
const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 1_000;

type Reply = (number | string)[];

/** One `acquire` / `lock` / `take` in flight or queued in Redis. */
class RemoteWaiter<T> extends Waiter<T> implements WakeListener {
  id: string;
  /** `sending`: acquire in flight; `queued`: Redis queued it; `done`: settled. */
  state: 'sending' | 'queued' | 'done' = 'sending';
  retries = 0;
  retryTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(
    readonly queue: RemoteQueue<T>,
    readonly weight: number,
    readonly mode: 'wait' | 'try',
  ) {
    super();
    this.id = queue.connection.newId();
  }

  get operation(): string {
    return this.queue.names.acquire;
  }

  cancel(reason: unknown): void {
    this.queue.withdraw(this, true);
    this.fail(reason);
  }

  wake(kind: string, token: number, at: number): void {
    if (this.state === 'done') return;
    if (kind === 'g') this.queue.granted(this, token, this.queue.connection.localDeadline(at));
    else this.queue.heartbeatIn(at);
  }

  recheck(): void {
    this.queue.heartbeatIn(0);
  }
}

export abstract class RemoteQueue<T> {
  /** Waiters Redis queued, by id. */
  private readonly queued = new Map<string, RemoteWaiter<T>>();
  private heartbeat: ReturnType<typeof setTimeout> | undefined = undefined;
  private heartbeatAt = Infinity;
  private heartbeatFailures = 0;
  private readonly head: string[];

  constructor(
    readonly connection: RedisConnection,
    readonly script: Script,
    readonly keys: readonly string[],
    readonly names: RemoteNames,
    /** ARGV[2] and ARGV[3]: capacity and lease, or limit and interval. */
    param: number,
    span: number,
    /** How long a waiter whose process went silent stays queued, in ms. */
    readonly liveness: number,
  ) {
    this.head = [String(param), String(span), String(liveness)];
  }

  /** What a grant resolves with; `null` (refuse it, the waiter tries again) when it came too late to use. */
  protected abstract admit(id: string, weight: number, token: number, deadline: number): T | null;

  /** Runs one operation of the script; the reply, having recorded its Redis time. */
  async call(op: string, args: readonly string[]): Promise<Reply> {
    const sentAt = performance.now();
    const reply = (await this.script.run(this.connection, this.keys, [op, ...this.head, ...args])) as Reply;
    this.connection.observe(Number(reply[op === 'heartbeat' ? 0 : 1]), sentAt);
    return reply;
  }

  acquire(weight: number, opts: WaitOptions | undefined): Promise<T> {
    const error = waitOptionsError(this.names.acquire, opts);
    if (error !== undefined) return rejected(error);
    const timeout = opts?.timeout;
    const waiter = new RemoteWaiter<T>(this, weight, timeout === 0 ? 'try' : 'wait');
    const promise = waiter.wait(opts?.signal, timeout === 0 ? undefined : timeout);
    this.send(waiter);
    return promise;
  }

  /** Takes `weight` now or never: `null` when it would have to wait. Rejects when Redis cannot be reached. */
  async tryAcquire(weight: number): Promise<T | null> {
    const id = this.connection.newId();
    let reply: Reply;
    try {
      const sentAt = performance.now();
      reply = await this.call('acquire', [id, String(weight), 'try']);
      if (reply[0] !== 1) return null;
      const granted = this.admit(id, weight, Number(reply[2]), sentAt + Number(reply[3]));
      if (granted === null) this.call('leave', [id]).catch(ignore);
      return granted;
    } catch (error) {
      throw redisError(this.names.tryAcquire, 'Redis command failed', error);
    }
  }

  private send(waiter: RemoteWaiter<T>): void {
    const sentAt = performance.now();
    this.connection.routeIfOpen(waiter.id, waiter);
    this.call('acquire', [waiter.id, String(waiter.weight), waiter.mode]).then(
      (reply) => this.acquired(waiter, reply, sentAt),
      (error: unknown) => this.failed(waiter, error),
    );
  }

  private acquired(waiter: RemoteWaiter<T>, reply: Reply, sentAt: number): void {
    if (waiter.state === 'done') return;
    waiter.retries = 0;
    if (reply[0] === 1) {
      this.granted(waiter, Number(reply[2]), sentAt + Number(reply[3]));
    } else if (reply[0] === 2) {
      this.withdraw(waiter, false);
      waiter.fail(timeoutError(this.names.acquire, 0));
    } else if (waiter.state === 'sending') {
      waiter.state = 'queued';
      this.queued.set(waiter.id, waiter);
      this.connection.watch(waiter.id, waiter);
      this.schedule(Number(reply[2]), reply[3]);
    }
  }

  private failed(waiter: RemoteWaiter<T>, error: unknown): void {
    if (waiter.state === 'done') return;
    if (waiter.mode === 'try' || !isTransient(error)) {
      this.withdraw(waiter, true);
      waiter.fail(redisError(this.names.acquire, 'Redis command failed', error));
      return;
    }
    // The acquire may or may not have run: sending it again with the same id is safe.
    const delay = Math.min(RETRY_MIN_MS * 2 ** waiter.retries++, RETRY_MAX_MS);
    waiter.retryTimer = unref(setTimeout(resend, delay, this, waiter));
  }

  /** Sends `acquire` again for a waiter Redis does not know (its reply was lost, or Redis lost its queue). */
  resend(waiter: RemoteWaiter<T>): void {
    waiter.retryTimer = undefined;
    if (waiter.state === 'done') return;
    this.queued.delete(waiter.id);
    waiter.state = 'sending';
    this.send(waiter);
  }

  /** Redis granted `waiter` (its lease ending at local time `deadline`). */
  granted(waiter: RemoteWaiter<T>, token: number, deadline: number): void {
    if (waiter.state === 'done') return;
    const value = this.admit(waiter.id, waiter.weight, token, deadline);
    if (value === null) {
      // Granted, but the lease is (nearly) over by now: give it back and wait again, as a new arrival.
      this.withdraw(waiter, true);
      waiter.id = this.connection.newId();
      waiter.state = 'sending';
      this.send(waiter);
      return;
    }
    this.withdraw(waiter, false);
    waiter.grant(value);
  }

  /** Forgets `waiter` locally, and in Redis too when `inRedis` (it may be queued or even granted there). */
  withdraw(waiter: RemoteWaiter<T>, inRedis: boolean): void {
    waiter.state = 'done';
    if (waiter.retryTimer !== undefined) clearTimeout(waiter.retryTimer);
    this.queued.delete(waiter.id);
    this.connection.unwatch(waiter.id);
    if (inRedis) this.call('leave', [waiter.id]).catch(ignore);
    if (this.queued.size === 0 && this.heartbeat !== undefined) {
      clearTimeout(this.heartbeat);
      this.heartbeat = undefined;
      this.heartbeatAt = Infinity;
    }
  }

  /** Runs a heartbeat in `delay` ms (sooner if one is already due sooner). */
  heartbeatIn(delay: number): void {
    if (this.queued.size === 0) return;
    const at = performance.now() + Math.max(0, delay);
    if (at >= this.heartbeatAt) return;
    if (this.heartbeat !== undefined) clearTimeout(this.heartbeat);
    this.heartbeatAt = at;
    this.heartbeat = unref(setTimeout(beat, timerDelay(Math.max(0, delay)), this));
  }

  /** Plans the next heartbeat after a reply: a third of the waiter lifetime, or when the head (ours) can go. */
  private schedule(hint: number, head: unknown): void {
    let delay = this.liveness / 3;
    if (hint >= 0 && typeof head === 'string' && this.queued.has(head)) delay = Math.min(delay, hint + 1);
    this.heartbeatIn(delay);
  }

  async beat(): Promise<void> {
    this.heartbeat = undefined;
    this.heartbeatAt = Infinity;
    const waiters = [...this.queued.values()];
    if (waiters.length === 0) return;
    const args: string[] = [];
    for (const waiter of waiters) args.push(waiter.id, String(waiter.weight));
    let reply: Reply;
    const sentAt = performance.now();
    try {
      reply = await this.call('heartbeat', args);
    } catch {
      this.heartbeatIn(Math.min(RETRY_MIN_MS * 2 ** this.heartbeatFailures++, RETRY_MAX_MS));
      return;
    }
    this.heartbeatFailures = 0;
    for (let i = 0; i < waiters.length; i++) {
      const waiter = waiters[i]!;
      const status = reply[3 + 3 * i];
      if (waiter.state !== 'queued') continue;
      if (status === 1) this.granted(waiter, Number(reply[4 + 3 * i]), sentAt + Number(reply[5 + 3 * i]));
      else if (status === 3) this.resend(waiter);
    }
    this.schedule(Number(reply[1]), reply[2]);
  }
}

function resend<T>(queue: RemoteQueue<T>, waiter: RemoteWaiter<T>): void {
  queue.resend(waiter);
}

function beat<T>(queue: RemoteQueue<T>): void {
  void queue.beat();
}
