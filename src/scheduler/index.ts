/**
 * weftjs/scheduler: cooperative multitasking on one thread.
 *
 * JavaScript runs your code on one thread, and nothing interrupts it: a loop that computes for 800 ms freezes every
 * timer, request and frame for 800 ms. The {@link Scheduler} runs CPU-heavy tasks in short time slices instead.
 * Tasks mark **yield points** (a bare `yield` in a generator, `await ctx.yield()` in an async function); once a slice
 * (5 ms by default) is spent, the next yield point hands control back to the event loop, which serves timers and I/O,
 * and the work resumes in the next slice. Priorities with aging, cancellation with `finally` cleanup, and
 * structured concurrency ({@link scope}) come with it. Browser-safe: it imports no Node.js built-in module.
 *
 * @example
 * ```ts
 * import { Scheduler } from 'weftjs/scheduler';
 *
 * declare const pixels: Float32Array;
 * const scheduler = new Scheduler();
 * const histogram = await scheduler.spawn(function* () {
 *   const bins = new Uint32Array(256);
 *   for (let i = 0; i < pixels.length; i++) {
 *     bins[Math.min(255, Math.floor(pixels[i]! * 256))]!++;
 *     if ((i & 1023) === 0) yield;
 *   }
 *   return bins;
 * });
 * ```
 *
 * @module weftjs/scheduler
 */
export { Scheduler, type SchedulerOptions, type SchedulerStats } from './scheduler.js';
export type { SpawnOptions, Task, TaskContext, TaskFn, TaskPriority, TaskStatus } from './types.js';
export { scope, type Scope, type ScopeOptions } from './scope.js';
export { sleep, yieldNow, type SleepOptions } from './yield.js';
