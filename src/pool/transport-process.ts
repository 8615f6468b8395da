/**
 * The process transport (`runtime: 'process'`): each worker is a Node.js child process started with
 * `child_process.fork` and `serialization: 'advanced'`, so values cross as structured clones. The messages are those of
 * the thread transport; what differs is memory: the pool's slot table is not shared with the child.
 *
 * So a task sent to a child is never taken back by the pool (its slot reads RUNNING at once): a cancelled task gets an
 * abort message, and the child either drops it (not started: it answers at once) or aborts its `this.signal`. When a
 * child dies, its in-flight tasks are sorted by what the pool knows: the child's last notice names the tasks it had
 * started (they reject with `WorkerCrashedError`; the others run elsewhere); a child the pool killed was running the
 * oldest; a child killed from outside (a signal, an out-of-memory, a native crash) says nothing, and all its
 * in-flight tasks reject, since any of them may have run.
 */
import type * as ChildProcesses from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import type * as Url from 'node:url';
import { nodeModule } from './node-modules.js';
import {
  MSG_TASKS,
  PROTOCOL_VERSION,
  SLOT_QUEUED,
  SLOT_RUNNING,
  deserializeError,
  type WorkerInit,
} from './protocol.js';
import { MSG_EXIT_NOTICE, PROCESS_ENV_KEY } from './protocol-process.js';
import { nodeTransport } from './transport-node.js';
import type { ResourceLimits, SpawnOptions, Transport, WorkerEvents, WorkerHandle } from './transport.js';
import { crossingError } from './crossing.js';

/** How long the pool waits, after a child exited, for the rest of its messages (its IPC channel to close). */
const DRAIN_MS = 1000;

class ProcessWorker implements WorkerHandle {
  /** The engine's slot table (the pool's copy). */
  private readonly slots: Int32Array;
  /** Order in which each slot's task was sent, to find the oldest. */
  private readonly sentAt: Float64Array;
  private sent = 0;
  /** Slots of the tasks the child had started when it said it was dying; `undefined` if it said nothing. */
  private running: number[] | undefined = undefined;
  private killed = false;
  private exit: { code: number; signal: string | undefined } | undefined = undefined;
  private reported = false;
  private drainTimer: ReturnType<typeof setTimeout> | undefined = undefined;

  constructor(
    private readonly child: ChildProcess,
    init: WorkerInit,
    private readonly events: WorkerEvents,
  ) {
    this.slots = new Int32Array(init.slots);
    this.sentAt = new Float64Array(this.slots.length);
    child.on('message', (message: unknown) => this.receive(message));
    child.on('exit', (code, signal) => this.exited(code, signal));
    child.on('disconnect', () => this.report());
    child.on('error', (error) => {
      // Failed to start (or a failed kill or send, which the exit handling covers).
      if (child.pid === undefined) {
        this.events.onError(error);
        this.exited(1, null);
        this.report();
      }
    });
  }

  post(message: unknown[]): void {
    try {
      this.child.send(message, undefined, undefined, ignoreSendError);
    } catch (error) {
      throw crossingError(message, error);
    }
    if (message[0] !== MSG_TASKS) return;
    // Sent tasks cannot be taken back: the child may start them any moment.
    const slots = this.slots;
    for (let i = 1; i < message.length; i += 4) {
      const slot = message[i] as number;
      Atomics.store(slots, slot, SLOT_RUNNING);
      this.sentAt[slot] = ++this.sent;
    }
  }

  terminate(): void {
    this.killed = true;
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
    if (message[0] !== MSG_EXIT_NOTICE) {
      this.events.onMessage(message);
      return;
    }
    this.running = message[1] as number[];
    if (message[2] !== undefined) this.events.onError(deserializeError(message[2]));
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
    this.sortInFlight();
    this.events.onExit(exit.code, exit.signal);
  }

  /** Marks the tasks the child may have started RUNNING, and the ones it cannot have started QUEUED. */
  private sortInFlight(): void {
    const slots = this.slots;
    let started: ((slot: number) => boolean) | undefined;
    const running = this.running;
    if (running !== undefined) started = (slot) => running.includes(slot);
    else if (this.killed) {
      let oldest = -1;
      for (let slot = 0; slot < slots.length; slot++) {
        if (slots[slot] === SLOT_RUNNING && (oldest < 0 || this.sentAt[slot]! < this.sentAt[oldest]!))
          oldest = slot;
      }
      started = (slot) => slot === oldest;
    }
    if (started === undefined) return;
    for (let slot = 0; slot < slots.length; slot++) {
      if (slots[slot] === SLOT_RUNNING && !started(slot)) slots[slot] = SLOT_QUEUED;
    }
  }
}

/** A send on a closed channel: the child is gone, and its exit reports what happened to its tasks. */
function ignoreSendError(): void {}

/** `execArgv` for a child: the pool's (or the parent's), plus V8 flags for the heap and stack limits. */
function childExecArgv(options: SpawnOptions): string[] {
  const argv = [...(options.execArgv ?? process.execArgv)];
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
  defaultThreads: nodeTransport.defaultThreads,
  resolve: nodeTransport.resolve,

  spawn(worker: URL | string, init: WorkerInit, options: SpawnOptions, events: WorkerEvents) {
    const { fork } = nodeModule<typeof ChildProcesses>('node:child_process');
    const file = worker instanceof URL ? nodeModule<typeof Url>('node:url').fileURLToPath(worker) : worker;
    const child = fork(file, [], {
      serialization: 'advanced',
      // stdout and stderr are the pool's own; stdin is not shared.
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: childExecArgv(options),
      env: { ...(options.env ?? process.env), [PROCESS_ENV_KEY]: String(PROTOCOL_VERSION) },
    });
    return new ProcessWorker(child, init, events);
  },
};
