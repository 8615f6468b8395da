/**
 * How a waiting process hears that Redis granted one of its waiters: one subscriber connection per user client,
 * opened (with `duplicate()`) when the first waiter needs it and closed soon after the last one is served, on which
 * the scripts publish `g <id> <token> <expiry>` (granted) and `h <id> <delay>` (you are at the head; try again in
 * `delay` ms). A message can be missed while the subscriber (re)connects, so each (re)subscription asks every
 * waiter to check its state in Redis; the waiters' heartbeats catch anything else.
 */
import { ignore } from '../internal/promise.js';
import type { RedisConnection } from './client.js';

/** A waiter (or the queue it belongs to) that grants are routed to. */
export interface WakeListener {
  /** `g`: granted with `token`, lease ending at Redis time `at`; `h`: head of the queue, worth retrying in `at` ms. */
  wake(kind: string, token: number, at: number): void;
  /** The subscriber (re)subscribed: messages may have been missed, ask Redis. */
  recheck(): void;
}

/** How long the subscriber stays open with nobody waiting, so back-to-back waits do not reconnect each time. */
const LINGER_MS = 1_000;

interface Subscriber {
  close(): void;
}

/** Calls `unref()` where timers have it (Node), so that a timer never keeps an idle process alive. */
export function unref<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}

export class WakeSubscriber {
  private readonly listeners = new Map<string, WakeListener>();
  private subscriber: Subscriber | undefined = undefined;
  private linger: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(private readonly connection: RedisConnection) {}

  add(id: string, listener: WakeListener): void {
    this.listeners.set(id, listener);
    if (this.linger !== undefined) {
      clearTimeout(this.linger);
      this.linger = undefined;
    }
    this.subscriber ??= this.open();
  }

  /** Routes `id` only if the subscriber is already open (an uncontended acquire must not open it). */
  routeIfOpen(id: string, listener: WakeListener): void {
    if (this.subscriber === undefined) return;
    this.listeners.set(id, listener);
    if (this.linger !== undefined) {
      clearTimeout(this.linger);
      this.linger = undefined;
    }
  }

  remove(id: string): void {
    if (!this.listeners.delete(id) || this.listeners.size > 0 || this.subscriber === undefined) return;
    this.linger ??= unref(setTimeout(closeSubscriber, LINGER_MS, this));
  }

  /** Closes the subscriber now (the user's client ended, or nobody waited for a while). */
  close(): void {
    if (this.linger !== undefined) clearTimeout(this.linger);
    this.linger = undefined;
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    subscriber?.close();
  }

  /** Asks every waiter to check its state in Redis. */
  recheck(): void {
    for (const listener of new Set(this.listeners.values())) listener.recheck();
  }

  dispatch(message: string): void {
    const [kind, id, token, at] = message.split(' ');
    if (kind === undefined || id === undefined) return;
    this.listeners.get(id)?.wake(kind, Number(token), Number(at ?? 0));
  }

  private open(): Subscriber {
    const channel = this.connection.channel;
    const onReady = (): void => {
      // Subscribing again is harmless, and its confirmation comes after any automatic resubscription.
      subscribe().then(() => this.recheck(), ignore);
    };
    const sub = this.connection.duplicate() as Record<string, (...args: unknown[]) => unknown>;
    let subscribe: () => Promise<unknown>;
    let close: () => void;
    let ready = false;
    sub.on!('error', ignore);
    if (this.connection.kind === 'ioredis') {
      sub.on!('message', (_channel: unknown, message: unknown) => this.dispatch(String(message)));
      subscribe = () => sub.subscribe!(channel) as Promise<unknown>;
      close = () => void sub.disconnect!();
      sub.on!('ready', () => {
        if (ready) onReady();
        ready = true;
      });
      onReady();
    } else {
      const listener = (message: unknown): void => this.dispatch(String(message));
      subscribe = () => sub.subscribe!(channel, listener) as Promise<unknown>;
      close = () => {
        const end = typeof sub.destroy === 'function' ? sub.destroy() : sub.disconnect!();
        Promise.resolve(end).catch(ignore);
      };
      sub.on!('ready', () => {
        if (ready) onReady();
        ready = true;
      });
      (sub.connect!() as Promise<unknown>).then(onReady, ignore);
    }
    return { close };
  }
}

function closeSubscriber(wake: WakeSubscriber): void {
  wake.close();
}
