/**
 * weft: concurrency primitives for Node.js and browsers.
 *
 * The root entry re-exports every module except the worker side of the pool (`weft/worker`). Import a subpath
 * (`weft/sync`, `weft/channel`, `weft/scheduler`, `weft/pool`, `weft/shared`) to load only what you use.
 *
 * @example
 * ```ts
 * import { Semaphore, Channel, Scheduler, WorkerPool } from 'weft';
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
