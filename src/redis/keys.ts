/**
 * Key layout: every key of one primitive is `<prefix>{<key>}:<part>`, so they share the hash tag `{<key>}` and
 * live on one Redis Cluster slot (a script may only touch keys of one slot). Mutex and semaphore share a layout (a
 * mutex is a semaphore of one); rate limiters and channels have their own parts, so the same key can name one of
 * each without collision.
 */
import { invalid } from '../internal/validate.js';

/** The prefix used when none is given. */
export const DEFAULT_PREFIX = 'weft:';

/** Parts of a semaphore's keys: queue, waiter deadlines, entries, holders, fencing counter. */
const SEMAPHORE_PARTS = ['queue', 'waiters', 'entries', 'holders', 'token'] as const;
/** Parts of a rate limiter's keys: queue, waiter deadlines, entries, admission log, its weight total. */
const RATE_LIMITER_PARTS = ['rate:queue', 'rate:waiters', 'rate:entries', 'rate:log', 'rate:total'] as const;

/** Throws the `TypeError` for a key that is not a non-empty string. */
export function assertKey(where: string, key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw invalid(where, 'key must be a non-empty string', key);
  }
}

/** The prefix option checked, or the default. */
export function prefixOf(where: string, prefix: unknown): string {
  if (prefix === undefined) return DEFAULT_PREFIX;
  if (typeof prefix !== 'string') throw invalid(where, 'prefix must be a string', prefix);
  return prefix;
}

function keysOf(prefix: string, key: string, parts: readonly string[]): string[] {
  return parts.map((part) => `${prefix}{${key}}:${part}`);
}

/** The keys of a mutex or semaphore. */
export function semaphoreKeys(prefix: string, key: string): string[] {
  return keysOf(prefix, key, SEMAPHORE_PARTS);
}

/** The keys of a rate limiter. */
export function rateLimiterKeys(prefix: string, key: string): string[] {
  return keysOf(prefix, key, RATE_LIMITER_PARTS);
}

/**
 * The keys of a channel: its stream `<prefix>{<name>}`, then `:meta`, `:senders`, the dead letters `:dead` and
 * `:consumers`.
 */
export function channelKeys(prefix: string, name: string): string[] {
  const stream = `${prefix}{${name}}`;
  return [stream, `${stream}:meta`, `${stream}:senders`, `${stream}:dead`, `${stream}:consumers`];
}
