/**
 * How {@link RedisChannel} turns values into stream fields and back. JSON by default, checked at `send` so that a
 * value JSON cannot carry fails there, before anything is written. A custom codec may produce a string (stored as
 * is, field `v`) or bytes (stored as base64, field `b`, since clients read replies as text).
 */
import { describe, invalid } from '../internal/validate.js';

/**
 * Turns channel values into what is stored in Redis and back. `decode` receives the bytes `encode` produced.
 *
 * @example Structured clone instead of JSON (Maps, Dates, BigInts, typed arrays)
 * ```ts
 * import v8 from 'node:v8';
 * import Redis from 'ioredis';
 * import { RedisChannel, type RedisChannelCodec } from 'weftjs/redis';
 *
 * const codec: RedisChannelCodec<Map<string, bigint>> = {
 *   encode: (value) => v8.serialize(value),
 *   decode: (bytes) => v8.deserialize(bytes) as Map<string, bigint>,
 * };
 * const totals = new RedisChannel(new Redis(), 'totals', { codec });
 * ```
 */
export interface RedisChannelCodec<T> {
  /** The stored form of `value`. Throw to refuse a value (`send` rejects with that error, nothing written). */
  encode(value: T): string | Uint8Array;
  /** The value back from its stored bytes (a `Buffer` in Node). */
  decode(bytes: Uint8Array): T;
}

/** A value as stored: field `v` (text) or `b` (base64 bytes), and the text. */
export type Stored = [field: 'v' | 'b', text: string];

interface BufferLike {
  from(data: string | Uint8Array, encoding?: string): Uint8Array & { toString(encoding?: string): string };
}

function bufferClass(): BufferLike {
  const buffer = (globalThis as { Buffer?: BufferLike }).Buffer;
  if (buffer === undefined)
    throw new TypeError('RedisChannel: a codec producing bytes needs Buffer (Node.js)');
  return buffer;
}

function jsonEncode(where: string, value: unknown): Stored {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    throw new TypeError(
      `${where}: value cannot be sent as JSON (${(error as Error).message}); pass a codec`,
      {
        cause: error,
      },
    );
  }
  if (text === undefined) {
    throw invalid(where, 'value must be representable as JSON (pass a codec for others)', value);
  }
  return ['v', text];
}

/** Encodes and decodes with the user's codec, or JSON. */
export class Codec<T> {
  constructor(private readonly custom: RedisChannelCodec<T> | undefined) {}

  /** The stored form of `value`; a `TypeError` naming `where` for a value the codec cannot carry. */
  encode(where: string, value: T): Stored {
    if (this.custom === undefined) return jsonEncode(where, value);
    const encoded = this.custom.encode(value);
    if (typeof encoded === 'string') return ['v', encoded];
    if (encoded instanceof Uint8Array) return ['b', bufferClass().from(encoded).toString('base64')];
    throw new TypeError(`${where}: codec.encode must return a string or bytes, got ${describe(encoded)}`);
  }

  decode(field: unknown, text: unknown): T {
    const stored = String(text);
    if (this.custom === undefined) return JSON.parse(stored) as T;
    const buffer = bufferClass();
    return this.custom.decode(field === 'b' ? buffer.from(stored, 'base64') : buffer.from(stored, 'utf8'));
  }
}
