/**
 * weft: concurrency primitives for Node.js and browsers.
 *
 * The root entry re-exports every module except the worker side of the pool (`weftjs/worker`). Import a subpath
 * (`weftjs/sync`, `weftjs/channel`, `weftjs/scheduler`, `weftjs/pool`, `weftjs/shared`) to load only what you use.
 *
 * @example
 * ```ts
 * import { Semaphore, Channel, Scheduler, WorkerPool } from 'weftjs';
 * ```
 *
 * @module weft
 */
export * from './errors.js';
export type { Permit, WaitOptions } from './types.js';
export * from './sync/index.js';
export * from './channel/index.js';
export * from './scheduler/index.js';
export * from './pool/index.js';
export * from './shared/index.js';
