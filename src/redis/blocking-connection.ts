/**
 * A dedicated connection for blocking reads (`XREADGROUP BLOCK`, `XREAD BLOCK`), which would stall every other
 * command on a shared one. Opened with the user client's `duplicate()` only while something waits on it, and
 * closed as soon as that ends, so an idle process keeps no socket open.
 */
import { ignore } from '../internal/promise.js';
import type { RedisConnection } from './client.js';

type Duplicate = Record<string, ((...args: unknown[]) => unknown) | undefined>;

export class BlockingConnection {
  private readonly client: Duplicate;
  private readonly ready: Promise<unknown>;
  /** This connection's `CLIENT ID`, asked first, so that a blocked read can be ended with `CLIENT UNBLOCK`. */
  readonly id: Promise<string>;
  closed = false;

  constructor(private readonly connection: RedisConnection) {
    this.client = connection.duplicate() as Duplicate;
    this.client.on!('error', ignore);
    this.ready =
      connection.kind === 'ioredis' ? Promise.resolve() : (this.client.connect!() as Promise<unknown>);
    this.ready.catch(ignore);
    this.id = this.send(['CLIENT', 'ID']).then(String);
    this.id.catch(ignore);
  }

  /** Sends a command on this connection; rejects once closed. */
  async send(args: string[]): Promise<unknown> {
    await this.ready;
    if (this.closed) throw new Error('connection closed');
    return this.connection.kind === 'ioredis' ? this.client.call!(...args) : this.client.sendCommand!(args);
  }

  /** Ends a blocked read on this connection as if it had timed out (through `connection`, a free one). */
  unblock(): void {
    this.id.then((id) => this.connection.send(['CLIENT', 'UNBLOCK', id])).catch(ignore);
  }

  /** Closes the connection now; a command still blocked on it rejects. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const client = this.client;
    if (this.connection.kind === 'ioredis') {
      client.disconnect!();
      return;
    }
    // node-redis: destroy at once (even while connecting) and again once connected, whichever applies.
    const end = (): void => {
      try {
        const ended = typeof client.destroy === 'function' ? client.destroy() : client.disconnect!();
        Promise.resolve(ended).catch(ignore);
      } catch {
        // Already closed.
      }
    };
    end();
    this.ready.then(end, ignore);
  }
}
