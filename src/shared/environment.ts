/**
 * What the shared locks need to know about the thread they run on, found at run time so that the module loads
 * unchanged in Node and in browsers (no `node:` import): the thread's id, whether it may block, a way to keep Node's
 * event loop alive while an async wait is pending, and a hook that runs when a Node worker thread exits.
 */
import { ignore } from '../internal/promise.js';

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
  once?: (event: 'exit', listener: () => void) => unknown;
}

interface WorkerThreads {
  isMainThread: boolean;
  threadId: number;
}

function nodeProcess(): NodeProcess | undefined {
  const proc = (globalThis as { process?: NodeProcess }).process;
  return typeof proc === 'object' && proc !== null && typeof proc.versions?.node === 'string'
    ? proc
    : undefined;
}

let workerThreadsModule: WorkerThreads | null | undefined;

/** `node:worker_threads` through `process.getBuiltinModule` (Node >= 20.16), or `null` outside Node. */
function workerThreads(): WorkerThreads | null {
  if (workerThreadsModule === undefined) {
    let found: unknown;
    try {
      found = nodeProcess()?.getBuiltinModule?.('node:worker_threads') ?? null;
    } catch {
      found = null;
    }
    workerThreadsModule =
      typeof found === 'object' && found !== null && typeof (found as WorkerThreads).threadId === 'number'
        ? (found as WorkerThreads)
        : null;
  }
  return workerThreadsModule;
}

let ownThreadId: number | undefined;

/**
 * The id this thread is known by in shared locks (`owner`, `releaseThread`): `threadId` from `node:worker_threads`
 * in Node (0 on the main thread, `worker.threadId` seen from the parent); elsewhere a random id chosen once per thread.
 *
 * @example Telling the parent who we are, from a browser worker
 * ```ts
 * import { currentThreadId } from 'weftjs/shared';
 *
 * postMessage({ ready: true, threadId: currentThreadId() });
 * ```
 */
export function currentThreadId(): number {
  if (ownThreadId === undefined) {
    const threads = workerThreads();
    if (threads !== null) {
      ownThreadId = threads.threadId;
    } else {
      const random = new Uint32Array(1);
      if (typeof globalThis.crypto?.getRandomValues === 'function') globalThis.crypto.getRandomValues(random);
      else random[0] = Math.floor(Math.random() * 0x7fffffff);
      // Kept clear of the small ids Node hands out, and below 2^29 (the guard word stores (id + 1) << 1).
      ownThreadId = 0x100000 + (random[0]! % (0x1fffffff - 0x100000));
    }
  }
  return ownThreadId;
}

let atomicsWaitAllowed: boolean | undefined;

/** Whether `Atomics.wait` works here (it throws on browser windows' main thread). */
export function canAtomicsWait(): boolean {
  if (atomicsWaitAllowed === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      atomicsWaitAllowed = true;
    } catch {
      atomicsWaitAllowed = false;
    }
  }
  return atomicsWaitAllowed;
}

/**
 * Whether a `*Sync` call may block this thread: not on Node's main thread (it would freeze every timer, socket and
 * promise of the process) and not on a browser window's main thread (where `Atomics.wait` throws).
 */
export function blockingAllowed(): boolean {
  const threads = workerThreads();
  if (threads !== null) return !threads.isMainThread;
  if (typeof (globalThis as { document?: unknown }).document !== 'undefined') return false;
  return canAtomicsWait();
}

/** Read once at load: fake timers installed by a test must not replace the keep-alive handle. */
const realSetInterval = globalThis.setInterval;
const realClearInterval = globalThis.clearInterval;

interface Refable {
  ref(): unknown;
  unref(): unknown;
}

let keepAliveTimer: Refable | null | undefined;
let keepAliveHolds = 0;

/**
 * Keeps Node's event loop alive while an async wait is pending: a pending `Atomics.waitAsync` alone does not, so a
 * thread awaiting a lock would otherwise exit. One idle interval per thread is ref'd while any wait is pending and
 * unref'd after. Elsewhere (browsers) nothing needs holding.
 */
export function holdAlive(): void {
  if (keepAliveHolds++ > 0) return;
  if (keepAliveTimer === undefined) {
    const timer = realSetInterval(ignore, 0x3fffffff) as unknown;
    if (typeof timer === 'object' && timer !== null && typeof (timer as Refable).ref === 'function') {
      keepAliveTimer = timer as Refable;
    } else {
      realClearInterval(timer as number);
      keepAliveTimer = null;
    }
  }
  keepAliveTimer?.ref();
}

/** Undoes one {@link holdAlive}. */
export function releaseAlive(): void {
  if (--keepAliveHolds === 0) keepAliveTimer?.unref();
}

/** Something that gives back what this thread holds in shared memory. */
export interface ExitCleanup {
  releaseOwnState(): void;
}

const exitCleanups = new Set<ExitCleanup>();
let exitHookInstalled = false;

function runExitCleanups(): void {
  for (const cleanup of exitCleanups) {
    try {
      cleanup.releaseOwnState();
    } catch {
      // The thread is exiting; the other locks must still be cleaned up.
    }
  }
  exitCleanups.clear();
}

/**
 * Registers `cleanup` to run when this thread exits on its own (its code ends, calls `process.exit()`, or throws
 * uncaught). Only Node worker threads have such a hook; `worker.terminate()` skips it, as it skips every `exit`
 * listener, which is what `releaseThread` is for.
 */
export function releaseOnExit(cleanup: ExitCleanup): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    const threads = workerThreads();
    const proc = nodeProcess();
    if (threads !== null && !threads.isMainThread && typeof proc?.once === 'function') {
      proc.once('exit', runExitCleanups);
    }
  }
  exitCleanups.add(cleanup);
}

/** Undoes {@link releaseOnExit} once the thread holds nothing in that lock. */
export function forgetOnExit(cleanup: ExitCleanup): void {
  exitCleanups.delete(cleanup);
}
