import { invalid } from '../internal/validate.js';
import { KIND_FUNCTION, KIND_GENERATOR, PROTOCOL_VERSION } from '../pool/protocol.js';
import type { TaskContext } from './context.js';
import { connectToPool } from './port.js';
import { Runtime } from './runtime.js';

/**
 * The functions a worker file hands to {@link expose}: any object whose values are functions.
 *
 * @example
 * ```ts
 * import { expose, type ExposedFunctions } from 'weftjs/worker';
 *
 * const api = {
 *   add: (a: number, b: number) => a + b,
 * } satisfies ExposedFunctions;
 * expose(api);
 * ```
 */
export type ExposedFunctions = Record<string, (...args: never[]) => unknown>;

const EXPOSED = Symbol.for('weft.worker.exposed');

/**
 * Makes functions callable from a `WorkerPool` (`pool.run(name, args)`, `pool.stream(name, args)`). Call it once, at
 * the top level of the worker file. Each function is called with the task's arguments and `this` bound to a
 * {@link TaskContext}; it may return a value, a promise, or (for `pool.stream`) a generator or async generator.
 *
 * Outside a pool worker (imported on the main thread, in a test, ...) `expose` does nothing, so the same module can
 * also be used inline.
 *
 * In a module Web Worker the pool's start-up data comes as a message, so the checks that need it (a second call, a
 * pool of another weft version) run when it arrives; a failure then ends the worker, and its tasks reject with
 * `WorkerCrashedError` carrying the error. Module workers do not see the page's import map: import `weftjs/worker`
 * through a bundler, or by its URL.
 *
 * @param fns - The functions, by the name callers use.
 * @returns `fns` itself, so the module can export it for a typed proxy (`pool.api<typeof import('./worker.js')>()`).
 * @throws `TypeError` if `fns` is not an object of functions; `Error` if called twice in one worker.
 *
 * @example A worker file
 * ```ts
 * // worker.ts
 * import { expose, type TaskContext } from 'weftjs/worker';
 *
 * export function fib(n: number): number {
 *   return n < 2 ? n : fib(n - 1) + fib(n - 2);
 * }
 *
 * export async function slow(this: TaskContext, ms: number): Promise<string> {
 *   await new Promise((resolve) => setTimeout(resolve, ms));
 *   this.signal.throwIfAborted();
 *   return 'done';
 * }
 *
 * export async function* count(to: number) {
 *   for (let i = 1; i <= to; i++) yield i;
 * }
 *
 * expose({ fib, slow, count });
 * ```
 */
export function expose<T extends ExposedFunctions>(fns: T & ThisType<TaskContext>): T {
  if (fns === null || typeof fns !== 'object') {
    throw invalid('expose', 'functions must be an object of functions', fns);
  }
  const names = Object.keys(fns);
  if (names.length === 0)
    throw new TypeError('expose: functions must hold at least one function, got an empty object');
  const list: ((...args: unknown[]) => unknown)[] = [];
  const kinds: number[] = [];
  for (const name of names) {
    const fn = (fns as Record<string, unknown>)[name];
    if (typeof fn !== 'function') {
      throw invalid('expose', `functions.${name} must be a function`, fn);
    }
    list.push(fn as (...args: unknown[]) => unknown);
    const constructorName = (fn as { constructor?: { name?: string } }).constructor?.name;
    kinds.push(
      constructorName === 'GeneratorFunction' || constructorName === 'AsyncGeneratorFunction'
        ? KIND_GENERATOR
        : KIND_FUNCTION,
    );
  }
  // Under Node this runs now; in a Web Worker when the pool's first message arrives; outside a pool worker never.
  connectToPool((port) => {
    const global = globalThis as { [EXPOSED]?: boolean };
    if (global[EXPOSED] === true) {
      throw new Error('expose: called twice in this worker; pass every function to a single expose() call');
    }
    global[EXPOSED] = true;
    if (port.init.version !== PROTOCOL_VERSION) {
      throw new Error(
        `expose: this worker's weft speaks pool protocol ${PROTOCOL_VERSION} but the pool speaks ${port.init.version}; ` +
          'load the same version of weft on both sides',
      );
    }
    new Runtime(port, names, list, kinds).start();
  });
  return fns;
}
