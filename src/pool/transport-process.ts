/**
 * The process transport (`runtime: 'process'`): each worker is a Node.js child process started with
 * `child_process.fork` and `serialization: 'advanced'`, so values cross as structured clones. The messages are those of
 * the thread transport; what differs is memory: the pool's slot table is not shared with the child.
 *
 * So a task sent to a child is never taken back by the pool (its slot reads RUNNING at once): a cancelled task gets an
 * abort message, and the child either drops it (not started: it answers at once) or aborts its `this.signal`. When a
 * child dies, however it dies, its progress file (see `PROGRESS_FD`) tells which of its tasks had started: those
 * reject with `WorkerCrashedError`, the others run elsewhere, and no task runs twice.
 */
import type * as ChildProcesses from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type * as Fs from 'node:fs';
import type * as Os from 'node:os';
import type * as Path from 'node:path';
import type * as Url from 'node:url';
import { nodeModule } from './node-modules.js';
import {
  MSG_TASKS,
  PROTOCOL_VERSION,
  SLOT_QUEUED,
  SLOT_RUNNING,
  deserializeError,
  entryCount,
  entrySlot,
  type WorkerInit,
} from './protocol.js';
import { MSG_EXIT_NOTICE, PROCESS_ENV_KEY } from './protocol-process.js';
import { nodeTransport } from './transport-node.js';
import type { ResourceLimits, SpawnOptions, Transport, WorkerEvents, WorkerHandle } from './transport.js';
import { crossingError, holdsSharedMemory } from './crossing.js';
import { PRELOAD_ARG } from './process-preload.js';

/** How long the pool waits, after a child exited, for the rest of its messages (its IPC channel to close). */
const DRAIN_MS = 1000;

class ProcessWorker implements WorkerHandle {
  /** The engine's slot table (the pool's copy). */
  private readonly slots: Int32Array;
  /** The number of each slot's task in the order sent (the child numbers them the same way). */
  private readonly numbers: Float64Array;
  private sent = 0;
  private exit: { code: number; signal: string | undefined } | undefined = undefined;
  private reported = false;
  private drainTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(
    private readonly child: ChildProcess,
    private readonly progress: ProgressFile,
    init: WorkerInit,
    private readonly events: WorkerEvents,
  ) {
    this.slots = new Int32Array(init.slots);
    this.numbers = new Float64Array(this.slots.length);
    child.on('message', (message: unknown) => this.receive(message));
    child.on('exit', (code, signal) => this.exited(code, signal));
    child.on('disconnect', () => this.report());
    child.on('error', (error) => {
      // Failed to start (a failed kill or send is covered by the exit that follows).
      if (child.pid === undefined) {
        this.events.onError(error);
        this.exited(1, null);
        this.report();
      }
    });
  }

  post(message: unknown[]): void {
    const tasks = message[0] === MSG_TASKS;
    try {
      if (tasks && holdsSharedMemory(message)) throw new TypeError('shared memory cannot cross');
      this.child.send(message, undefined, undefined, ignoreSendError);
    } catch (error) {
      throw crossingError(message, error);
    }
    if (!tasks) return;
    // Sent tasks cannot be taken back: the child may start them any moment.
    const slots = this.slots;
    for (let entry = 0, count = entryCount(message); entry < count; entry++) {
      const slot = entrySlot(message, entry);
      Atomics.store(slots, slot, SLOT_RUNNING);
      this.numbers[slot] = ++this.sent;
    }
  }

  terminate(): void {
    // Keep the pool's process alive until the exit is in (`await pool.close()` at the top level of a module).
    this.ref();
    this.child.kill('SIGKILL');
  }

  ref(): void {
    this.child.ref();
    this.child.channel?.ref();
  }

  unref(): void {
    this.child.unref();
    this.child.channel?.unref();
  }

  private receive(message: unknown): void {
    if (!Array.isArray(message)) return;
    if (message[0] === MSG_EXIT_NOTICE) this.events.onError(deserializeError(message[1]));
    else this.events.onMessage(message);
  }

  private exited(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exit !== undefined) return;
    this.exit = { code: code ?? 1, signal: signal ?? undefined };
    if (!this.child.connected) this.report();
    else this.drainTimer = setTimeout(() => this.report(), DRAIN_MS);
  }

  /** Once the child has exited and its last messages are in: sorts its tasks and tells the engine. */
  private report(): void {
    const exit = this.exit;
    if (exit === undefined || this.reported) return;
    this.reported = true;
    if (this.drainTimer !== undefined) clearTimeout(this.drainTimer);
    const lastStarted = this.progress.readAndClose();
    // Tasks the child never started can run elsewhere; without a progress record, every one may have started.
    const slots = this.slots;
    for (let slot = 0; slot < slots.length; slot++) {
      if (slots[slot] === SLOT_RUNNING && this.numbers[slot]! > lastStarted) slots[slot] = SLOT_QUEUED;
    }
    this.events.onExit(exit.code, exit.signal);
  }
}

/** The progress record of one child: an unlinked temporary file, open in the pool and inherited by the child. */
class ProgressFile {
  private readonly buffer = new Float64Array(1);

  private constructor(
    readonly fd: number,
    private readonly path: string | undefined,
  ) {}

  static create(): ProgressFile {
    const fs = nodeModule<typeof Fs>('node:fs');
    const dir = nodeModule<typeof Os>('node:os').tmpdir();
    const path = nodeModule<typeof Path>('node:path').join(dir, `weft-pool-${process.pid}-${++created}`);
    const fd = fs.openSync(path, 'w+', 0o600);
    fs.writeSync(fd, new Uint8Array(8), 0, 8, 0);
    try {
      fs.unlinkSync(path); // gone with the last descriptor, whatever happens to either process
      return new ProgressFile(fd, undefined);
    } catch {
      return new ProgressFile(fd, path); // Windows: an open file cannot be unlinked
    }
  }

  /** The number of the last task the child started (`Infinity` if unknown); closes the file. */
  readAndClose(): number {
    const fs = nodeModule<typeof Fs>('node:fs');
    let last = Infinity;
    try {
      if (fs.readSync(this.fd, new Uint8Array(this.buffer.buffer), 0, 8, 0) === 8) last = this.buffer[0]!;
      fs.closeSync(this.fd);
      if (this.path !== undefined) fs.unlinkSync(this.path);
    } catch {
      // Unknown progress: every task in flight counts as started.
    }
    return last;
  }
}

let created = 0;

/** A send on a closed channel: the child is gone, and its exit reports what happened to its tasks. */
function ignoreSendError(): void {}

/** `execArgv` for a child: the pool's (or the parent's), plus V8 flags for the heap and stack limits. */
function childExecArgv(options: SpawnOptions): string[] {
  const argv = [...(options.execArgv ?? process.execArgv), PRELOAD_ARG];
  const limits: ResourceLimits | undefined = options.resourceLimits;
  if (limits?.maxOldGenerationSizeMb !== undefined)
    argv.push(`--max-old-space-size=${limits.maxOldGenerationSizeMb}`);
  if (limits?.maxYoungGenerationSizeMb !== undefined) {
    // V8's young generation is three semi-spaces.
    argv.push(`--max-semi-space-size=${Math.max(1, Math.round(limits.maxYoungGenerationSizeMb / 3))}`);
  }
  if (limits?.stackSizeMb !== undefined) argv.push(`--stack-size=${Math.round(limits.stackSizeMb * 1024)}`);
  return argv;
}

export const processTransport: Transport = {
  defaultThreads: () => nodeTransport.defaultThreads(),
  resolve: (worker) => nodeTransport.resolve(worker),

  spawn(worker: URL | string, init: WorkerInit, options: SpawnOptions, events: WorkerEvents) {
    const { fork } = nodeModule<typeof ChildProcesses>('node:child_process');
    const file = worker instanceof URL ? nodeModule<typeof Url>('node:url').fileURLToPath(worker) : worker;
    const progress = ProgressFile.create();
    let child: ChildProcess;
    try {
      child = fork(file, [], {
        serialization: 'advanced',
        // stdout and stderr are the pool's own; stdin is not shared; fd 4 is the progress record.
        stdio: ['ignore', 'inherit', 'inherit', 'ipc', progress.fd],
        execArgv: childExecArgv(options),
        env: { ...(options.env ?? process.env), [PROCESS_ENV_KEY]: String(PROTOCOL_VERSION) },
      });
    } catch (error) {
      progress.readAndClose();
      throw error;
    }
    return new ProcessWorker(child, progress, init, events);
  },
};
