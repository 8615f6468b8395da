/** Forked Node processes that run weftjs/redis commands for the multi-process tests (tests/fixtures/redis). */
import { fork, type ChildProcess } from 'node:child_process';
import { setPriority } from 'node:os';
import path from 'node:path';

const fixture = path.resolve(import.meta.dirname, '..', 'fixtures', 'redis', 'process.mjs');

export interface Reply {
  n: number;
  ok: boolean;
  token?: number;
  error?: { name: string; message: string };
  stats?: Record<string, number>;
  [key: string]: unknown;
}

/** A forked process; `request` sends a command and resolves with its reply, `events` collects what it reports. */
export class Peer {
  readonly events: { n?: number; event: string; [key: string]: unknown }[] = [];
  private next = 0;
  private readonly pending = new Map<number, (reply: Reply) => void>();
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (message: Reply & { event?: string }) => {
      if (message.event !== undefined) this.events.push(message as never);
      else this.pending.get(message.n)?.(message);
    });
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  static async start(
    port: number,
    client = 'ioredis',
    env: Record<string, string> = {},
    script = fixture,
  ): Promise<Peer> {
    const child = fork(script, [], {
      env: { ...process.env, WEFT_REDIS_PORT: String(port), WEFT_REDIS_CLIENT: client, ...env },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    // Below the test runner's priority, so that the load of a chaos run does not starve timing-sensitive tests of
    // other suites running at the same time on a small CI machine.
    try {
      setPriority(child.pid!, 10);
    } catch {
      // not permitted here: run at the default priority
    }
    const peer = new Peer(child);
    await peer.until((e) => e.event === 'ready');
    return peer;
  }

  /** Sends `op` and resolves with its reply (`n` identifies it). */
  request(message: Record<string, unknown>): Promise<Reply> {
    const n = this.next++;
    return new Promise((resolve) => {
      this.pending.set(n, resolve);
      this.child.send({ ...message, n });
    });
  }

  /** Resolves once an event matching `test` has been reported. */
  async until(test: (event: Peer['events'][number]) => boolean): Promise<Peer['events'][number]> {
    for (;;) {
      const found = this.events.find(test);
      if (found !== undefined) return found;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  signal(name: NodeJS.Signals): void {
    process.kill(this.child.pid!, name);
  }

  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  /** Reports of unhandled rejections in the process. */
  get unhandled(): unknown[] {
    return this.events.filter((e) => e.event === 'unhandled');
  }
}
