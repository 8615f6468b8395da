/**
 * Real Redis for the weftjs/redis tests: each call to {@link startRedis} starts its own `redis-server` child process
 * on a free 127.0.0.1 port (no persistence) and stops it by pid. Never a system service, never another host.
 * Without `redis-server`, the suites skip with an install hint; under `CI=true` they fail instead.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { createClient } from 'redis';
import { Redis as IORedis } from 'ioredis';

const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
/** True when `redis-server` can be started. */
export const hasRedis = found.status === 0;
/** Why the Redis suites are skipped, or `undefined`. */
export const skipReason = hasRedis
  ? undefined
  : 'redis-server not found: install Redis 7 (apt-get install redis-server) to run the weftjs/redis tests';
if (!hasRedis) {
  if (process.env.CI === 'true') throw new Error(`CI needs redis-server: ${skipReason}`);
  console.warn(skipReason);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** A redis-server child process of this test run. */
export class RedisServer {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    await server.launch();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  private async launch(): Promise<void> {
    const child = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const onData = (chunk: Buffer): void => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          child.stdout.off('data', onData);
          child.stdout.resume();
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.resume();
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${output}`)));
    });
  }

  /** Stops the server (SIGKILL by pid: nothing is saved anyway) and waits until it has exited. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    process.kill(child.pid!, 'SIGKILL');
    await exited;
  }

  /** Stops the server and starts a fresh one (empty) on the same port. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }
}

/** A client kind the suites run against. */
export interface ClientKind {
  name: 'ioredis' | 'node-redis';
  connect(port: number): Promise<unknown>;
  /** Sends a raw command. */
  command(client: unknown, args: string[]): Promise<unknown>;
  quit(client: unknown): Promise<void>;
}

export const clientKinds: ClientKind[] = [
  {
    name: 'ioredis',
    async connect(port) {
      const client = new IORedis(port, '127.0.0.1', { lazyConnect: true });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
    command: (client, [name, ...args]) => (client as IORedis).call(name!, ...args),
    async quit(client) {
      await (client as IORedis).quit().catch(() => (client as IORedis).disconnect());
    },
  },
  {
    name: 'node-redis',
    async connect(port) {
      const client = createClient({ socket: { port, host: '127.0.0.1' } });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    },
    command: (client, args) => (client as ReturnType<typeof createClient>).sendCommand(args),
    async quit(client) {
      const c = client as ReturnType<typeof createClient>;
      if (c.isOpen) await c.close().catch(() => c.destroy());
    },
  },
];

/** How a script run by {@link runClientScript} ended, and what it printed (trimmed). */
export interface ScriptOutcome {
  code: number | null;
  signal: string | null;
  output: string;
}

/**
 * Runs the fixture `script` as a child process against the server on `port` with a client of `kind` (passed as
 * `WEFT_REDIS_PORT` and `WEFT_REDIS_CLIENT`), and resolves once it exits; it is killed after `killAfterMs`.
 */
export async function runClientScript(
  script: string,
  port: number,
  kind: ClientKind,
  killAfterMs: number,
): Promise<ScriptOutcome> {
  const child = spawn(process.execPath, [script], {
    env: { ...process.env, WEFT_REDIS_PORT: String(port), WEFT_REDIS_CLIENT: kind.name },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) =>
    child.once('exit', (c, s) => resolve([c, s])),
  );
  clearTimeout(timer);
  return { code, signal, output: output.trim() };
}
