/**
 * What the pool engine needs from a threading platform. The engine never touches `node:worker_threads` (or Web
 * Workers) itself; a transport starts workers and moves messages, so another platform is one more file beside
 * transport-node.ts.
 */
import type { WorkerInit } from './protocol.js';

/** Options a platform may honour when starting a worker (unknown ones are ignored). */
export interface SpawnOptions {
  /** Thread name, shown in debuggers and heap snapshots. */
  name: string;
  /** Node only: `execArgv` of the worker (e.g. `['--import', 'tsx']`). */
  execArgv?: string[] | undefined;
  /** Node only: environment of the worker. */
  env?: Record<string, string | undefined> | undefined;
  /** Node only: heap limits of the worker. */
  resourceLimits?: ResourceLimits | undefined;
}

/**
 * Heap and stack limits of a worker thread, as Node's `Worker` takes them (MB, MB, MB, MB). A worker that exceeds
 * them dies; its task rejects with `WorkerCrashedError` and the worker is replaced.
 *
 * @example
 * ```ts
 * import { WorkerPool, type ResourceLimits } from 'weftjs/pool';
 *
 * const resourceLimits: ResourceLimits = { maxOldGenerationSizeMb: 256 };
 * const pool = new WorkerPool({ worker: new URL('./worker.js', import.meta.url), resourceLimits });
 * ```
 */
export interface ResourceLimits {
  /** Maximum size of the main (old generation) heap, in MB. */
  maxOldGenerationSizeMb?: number;
  /** Maximum size of the heap space for recently created objects, in MB. */
  maxYoungGenerationSizeMb?: number;
  /** Size of the pre-allocated memory range for generated code, in MB. */
  codeRangeSizeMb?: number;
  /** Default maximum stack size for the thread, in MB. */
  stackSizeMb?: number;
}

/** Callbacks from one worker to the engine. */
export interface WorkerEvents {
  onMessage(message: unknown[]): void;
  /** An uncaught error in the worker; an exit follows. */
  onError(error: unknown): void;
  /** The worker ended: its exit code, or the signal that killed its process (`exitCode` is then meaningless). */
  onExit(exitCode: number, signal?: string): void;
}

/** One running worker as the engine sees it. */
export interface WorkerHandle {
  /** Sends a message; throws a `DataCloneError` when something in it cannot be cloned or transferred. */
  post(message: unknown[], transfer?: readonly Transferable[]): void;
  /** Stops the worker; `onExit` follows. */
  terminate(): void;
  /** Whether the worker keeps the process (or page) alive. */
  ref(): void;
  unref(): void;
}

export interface Transport {
  /** Threads to use when `maxThreads` is not given. */
  defaultThreads(): number;
  /** Checks a worker location and returns the form `spawn` takes; throws a `TypeError` naming the bad value. */
  resolve(worker: string | URL): URL | string;
  /** Starts a worker. May throw when the worker cannot even be created (the engine treats it as a start failure). */
  spawn(worker: URL | string, init: WorkerInit, options: SpawnOptions, events: WorkerEvents): WorkerHandle;
}
