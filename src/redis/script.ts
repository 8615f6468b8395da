/**
 * A Lua script run with EVALSHA, loaded again with EVAL when Redis answers NOSCRIPT (after a restart, a failover or
 * `SCRIPT FLUSH`). Redis errors are matched by their code (the first word of the reply), never by their text.
 */
import type { RedisConnection } from './client.js';

/** The code of a Redis error reply (`NOSCRIPT`, `LOADING`, ...), or `undefined` for other errors. */
export function redisErrorCode(error: unknown): string | undefined {
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return undefined;
  return /^([A-Z][A-Z_]+)( |$)/.exec(message)?.[1];
}

/** Codes of replies that mean "not now" (Redis starting, a failover, a busy script): waits retry after them. */
const TRANSIENT_CODES = new Set([
  'LOADING',
  'BUSY',
  'READONLY',
  'MASTERDOWN',
  'TRYAGAIN',
  'CLUSTERDOWN',
  'NOSCRIPT',
]);

/**
 * True when `error` is worth retrying: the connection failed or Redis answered with a transient code. A script
 * error or a wrong-type key is not.
 */
export function isTransient(error: unknown): boolean {
  const code = redisErrorCode(error);
  return code === undefined || TRANSIENT_CODES.has(code);
}

async function sha1(text: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-1', new TextEncoder().encode(text));
  let hex = '';
  for (const byte of new Uint8Array(digest)) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

export class Script {
  private sha: string | undefined = undefined;
  private hashing = false;

  constructor(readonly source: string) {}

  /** Runs the script with `keys` and `args`; the reply as the client decodes it. */
  async run(connection: RedisConnection, keys: readonly string[], args: readonly string[]): Promise<unknown> {
    const count = String(keys.length);
    if (this.sha !== undefined) {
      try {
        return await connection.send(['EVALSHA', this.sha, count, ...keys, ...args]);
      } catch (error) {
        if (redisErrorCode(error) !== 'NOSCRIPT') throw error;
      }
    }
    if (!this.hashing) {
      this.hashing = true;
      sha1(this.source).then(
        (sha) => (this.sha = sha),
        () => (this.hashing = false),
      );
    }
    // EVAL also puts the script in Redis's cache, so the next EVALSHA finds it.
    return connection.send(['EVAL', this.source, count, ...keys, ...args]);
  }
}
