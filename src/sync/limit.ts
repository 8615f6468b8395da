import { abortError } from '../internal/waiter.js';
import type { PermitOwner } from '../internal/permit.js';
import { ignore } from '../internal/promise.js';
import { TaskStarter, failTask, newTask, type Task } from '../internal/task-starter.js';
import { assertFunction, invalid } from '../internal/validate.js';
import { WaitQueue } from '../internal/wait-queue.js';

/**
 * Options of {@link limit} and {@link limitFunction}.
 *
 * @example
 * ```ts
 * import { limit } from 'weftjs/sync';
 *
 * const lim = limit({ concurrency: 4, rejectOnClear: true });
 * ```
 */
export interface LimitOptions {
  /**
   * How many calls may run at once: an integer from 1 up, or `Infinity`.
   *
   * @example
   * ```ts
   * import { limit } from 'weftjs/sync';
   *
   * const lim = limit({ concurrency: 2 });
   * ```
   */
  readonly concurrency: number;
  /**
   * Make {@link LimitFunction.clearQueue} reject the calls it discards with a `DOMException` named `AbortError`
   * (instead of leaving their promises pending forever). Recommended when you await the results, for example with
   * `Promise.all`. Default `false`.
   *
   * @example
   * ```ts
   * import { limit } from 'weftjs/sync';
   *
   * const lim = limit({ concurrency: 1, rejectOnClear: true });
   * const first = lim(() => new Promise((resolve) => setTimeout(resolve, 100)));
   * const second = lim(async () => 'never runs');
   * lim.clearQueue();
   * await second.catch((error: unknown) => console.log((error as DOMException).name)); // AbortError
   * await first;
   * ```
   */
  readonly rejectOnClear?: boolean | undefined;
}

/**
 * A concurrency limiter made by {@link limit}: call it with a function (and optionally its arguments) to run that
 * function once fewer than `concurrency` calls are running. Same behaviour as p-limit 7.3's `LimitFunction`.
 *
 * @example
 * ```ts
 * import { limit, type LimitFunction } from 'weftjs/sync';
 *
 * const lim: LimitFunction = limit(2);
 * const sizes = await Promise.all(['a', 'bb', 'ccc'].map((name) => lim(async (n: string) => n.length, name)));
 * console.log(sizes); // [1, 2, 3]
 * ```
 */
export interface LimitFunction {
  /**
   * Queues `fn(...args)` and settles with its result. `fn` always starts asynchronously (never inside this call),
   * in the caller's async context, in call order.
   *
   * Do not call a limiter from inside a function it runs and wait for the result: with every slot taken by such
   * outer calls, the inner calls never start (a deadlock). Use a separate limiter for inner work.
   *
   * @param fn - The function to run; its return value or promise becomes the result.
   * @param args - Arguments passed to `fn` (saves a closure per call).
   * @returns What `fn` returns or resolves with; rejects with what it throws or rejects with.
   *
   * @example
   * ```ts
   * import { limit } from 'weftjs/sync';
   *
   * const lim = limit(1);
   * const sum = await lim((a: number, b: number) => a + b, 1, 2); // 3
   * ```
   */
  <Arguments extends unknown[], ReturnType>(
    fn: (...args: Arguments) => PromiseLike<ReturnType> | ReturnType,
    ...args: Arguments
  ): Promise<ReturnType>;

  /**
   * Number of calls running now (started and not yet settled).
   *
   * @example
   * ```ts
   * import { limit } from 'weftjs/sync';
   *
   * const lim = limit(2);
   * void lim(() => new Promise((resolve) => setTimeout(resolve, 10)));
   * console.log(lim.activeCount); // 1
   * ```
   */
  readonly activeCount: number;

  /**
   * Number of calls waiting for a free slot (their `fn` has not been called yet).
   *
   * @example
   * ```ts
   * import { limit } from 'weftjs/sync';
   *
   * const lim = limit(1);
   * const wait = () => new Promise((resolve) => setTimeout(resolve, 10));
   * void lim(wait);
   * void lim(wait);
   * console.log(lim.pendingCount); // 1
   * ```
   */
  readonly pendingCount: number;

  /**
   * The concurrency limit; setting it takes effect at once for later calls, and queued calls are started (in a
   * microtask) if it went up. Running calls are never interrupted when it goes down.
   *
   * @example
   * ```ts
   * import { limit } from 'weftjs/sync';
   *
   * const lim = limit(2);
   * lim.concurrency = 8; // e.g. after the server said it can take more
   * ```
   */
  concurrency: number;

  /**
   * Discards the calls that have not started. With `rejectOnClear` their promises reject with a `DOMException` named
   * `AbortError`; otherwise they stay pending forever. Running calls are not affected.
   *
   * @example
   * ```ts
   * import { limit } from 'weftjs/sync';
   *
   * const lim = limit({ concurrency: 1, rejectOnClear: true });
   * const results = Promise.allSettled([1, 2, 3].map((n) => lim(async () => n)));
   * lim.clearQueue();
   * console.log((await results).map((r) => r.status)); // ['fulfilled', 'rejected', 'rejected']
   * ```
   */
  clearQueue: () => void;

  /**
   * Calls `mapper(item, index)` for every item through this limiter and resolves with the results in input order,
   * like `Promise.all(Array.from(iterable, (item, index) => limit(mapper, item, index)))`. Works when detached
   * (`const { map } = lim`). If iterating throws, the promise rejects with that error; calls already queued still
   * run and their results are discarded.
   *
   * @param iterable - The inputs.
   * @param mapper - Called with each input and its index.
   * @returns The results, in input order.
   *
   * @example
   * ```ts
   * import { limit } from 'weftjs/sync';
   *
   * const { map } = limit(3);
   * const lengths = await map(['a', 'bb', 'ccc'], async (text, index) => text.length * index);
   * console.log(lengths); // [0, 2, 6]
   * ```
   */
  map: <Input, ReturnType>(
    iterable: Iterable<Input>,
    mapper: (input: Input, index: number) => PromiseLike<ReturnType> | ReturnType,
  ) => Promise<ReturnType[]>;
}

/**
 * A function wrapped by {@link limitFunction}: call it as the original; calls beyond the limit wait their turn.
 *
 * @example
 * ```ts
 * import { limitFunction, type LimitedFunction } from 'weftjs/sync';
 *
 * const fetchText: LimitedFunction<[string], string> = limitFunction(
 *   async (url: string) => (await fetch(url)).text(),
 *   { concurrency: 2 },
 * );
 * console.log(fetchText.activeCount); // 0
 * ```
 */
export type LimitedFunction<Arguments extends unknown[], ReturnType> = ((
  ...args: Arguments
) => Promise<ReturnType>) &
  Pick<LimitFunction, 'activeCount' | 'pendingCount' | 'concurrency' | 'clearQueue'>;

/** The state behind one limiter: the count of running calls and the queue of waiting ones. */
class LimitState implements PermitOwner {
  active = 0;
  readonly queue = new WaitQueue<Task>();
  readonly starter = new TaskStarter(this);

  constructor(
    public concurrency: number,
    readonly rejectOnClear: boolean,
  ) {}

  /** A call settled. */
  releasePermit(): void {
    this.active--;
    this.admit();
  }

  admit(): void {
    const queue = this.queue;
    while (this.active < this.concurrency && queue.length !== 0) {
      this.active++;
      this.starter.admit(queue.shift()!);
    }
  }

  clear(): void {
    const queue = this.queue;
    for (let task = queue.shift(); task !== undefined; task = queue.shift()) {
      if (this.rejectOnClear) failTask(task, abortError());
    }
  }
}

function concurrencyError(where: string, value: unknown): TypeError | RangeError | undefined {
  if (typeof value === 'number' && (Number.isInteger(value) || value === Infinity) && value >= 1)
    return undefined;
  return invalid(
    where,
    'concurrency must be an integer from 1 up, or Infinity',
    value,
    typeof value === 'number',
  );
}

function makeState(where: string, options: number | LimitOptions): LimitState {
  let concurrency: unknown = options;
  let rejectOnClear: unknown = false;
  if (typeof options === 'object' && options !== null) {
    concurrency = options.concurrency;
    rejectOnClear = options.rejectOnClear ?? false;
  }
  const error = concurrencyError(where, concurrency);
  if (error !== undefined) throw error;
  if (typeof rejectOnClear !== 'boolean') {
    throw invalid(where, 'rejectOnClear must be a boolean', rejectOnClear);
  }
  return new LimitState(concurrency as number, rejectOnClear);
}

function sliceArguments(args: IArguments): unknown[] {
  return Array.prototype.slice.call(args, 1) as unknown[];
}

/**
 * Creates a concurrency limiter: a drop-in replacement for p-limit 7.3 (`pLimit(concurrency)`).
 *
 * Every call `lim(fn, ...args)` starts `fn` once fewer than `concurrency` calls are running, in call order, always
 * asynchronously and in the caller's async context, and settles with `fn`'s result. The limiter reports
 * `activeCount` and `pendingCount`, can change `concurrency` on the fly, discard waiting calls with `clearQueue()`,
 * and map over an iterable with `map()`.
 *
 * For waits that can be aborted or time out, or work that takes several slots, use {@link Semaphore.run}.
 *
 * @param concurrency - How many calls may run at once (an integer from 1 up, or `Infinity`), or
 *   `{ concurrency, rejectOnClear }`.
 * @returns The limiter.
 * @throws `TypeError` if `concurrency` is not a number, `RangeError` if it is not an integer >= 1 or `Infinity`,
 *   `TypeError` if `rejectOnClear` is not a boolean.
 *
 * @example Fetching many URLs, four at a time
 * ```ts
 * import { limit } from 'weftjs/sync';
 *
 * const lim = limit(4);
 * const urls = ['https://example.com/1', 'https://example.com/2', 'https://example.com/3'];
 * const statuses = await Promise.all(urls.map((url) => lim(async () => (await fetch(url)).status)));
 * ```
 */
export function limit(concurrency: number | LimitOptions): LimitFunction {
  return createLimiter('limit', concurrency);
}

function createLimiter(where: string, options: number | LimitOptions): LimitFunction {
  const state = makeState(where, options);

  function limited(fn: (...args: unknown[]) => unknown): Promise<unknown> {
    if (typeof fn !== 'function') {
      return Promise.reject(invalid('limit', 'fn must be a function', fn));
    }
    // `arguments` instead of a rest parameter: most calls pass no arguments and then allocate no array.
    // eslint-disable-next-line prefer-rest-params
    const task = newTask(fn, arguments.length > 1 ? sliceArguments(arguments) : undefined, 1);
    if (state.active < state.concurrency && state.queue.length === 0) {
      state.active++;
      return state.starter.startAdmitted(task);
    }
    state.queue.push(task);
    const started = state.starter.startWhenAdmitted(task);
    // Room left while calls are queued: `concurrency` was just raised and its catch-up has not run yet.
    if (state.active < state.concurrency) state.admit();
    return started;
  }

  async function map<Input, ReturnType>(
    iterable: Iterable<Input>,
    mapper: (input: Input, index: number) => PromiseLike<ReturnType> | ReturnType,
  ): Promise<ReturnType[]> {
    assertFunction('limit.map', 'mapper', mapper);
    const results: Promise<unknown>[] = [];
    try {
      Array.from(iterable, (input, index) => results.push(self(mapper, input, index)));
    } catch (error) {
      for (const result of results) result.catch(ignore);
      throw error;
    }
    return Promise.all(results) as Promise<ReturnType[]>;
  }

  const self = limited as LimitFunction;
  Object.defineProperties(limited, {
    activeCount: { get: () => state.active },
    pendingCount: { get: () => state.queue.length },
    concurrency: {
      get: () => state.concurrency,
      set(value: unknown) {
        const error = concurrencyError(where, value);
        if (error !== undefined) throw error;
        state.concurrency = value as number;
        queueMicrotask(() => state.admit());
      },
    },
    clearQueue: { value: () => state.clear() },
    map: { value: map },
  });
  return self;
}

/**
 * Wraps `fn` so that at most `concurrency` calls of it run at once: a drop-in replacement for p-limit 7.3's
 * `limitFunction`. Calls beyond the limit wait in call order; `this` is not forwarded.
 *
 * @param fn - The function to limit.
 * @param options - `{ concurrency, rejectOnClear }` (or just the concurrency), as for {@link limit}.
 * @returns The limited function, with `activeCount`, `pendingCount`, settable `concurrency` and `clearQueue()`.
 * @throws As {@link limit} does for bad options, and `TypeError` if `fn` is not a function.
 *
 * @example One database migration at a time, whoever asks
 * ```ts
 * import { limitFunction } from 'weftjs/sync';
 *
 * const migrate = limitFunction(
 *   async (version: number) => {
 *     console.log(`migrating to ${version}`);
 *     return version;
 *   },
 *   { concurrency: 1 },
 * );
 * await Promise.all([migrate(1), migrate(2)]);
 * ```
 */
export function limitFunction<Arguments extends unknown[], ReturnType>(
  fn: (...args: Arguments) => PromiseLike<ReturnType> | ReturnType,
  options: number | LimitOptions,
): LimitedFunction<Arguments, ReturnType> {
  assertFunction('limitFunction', 'fn', fn);
  const lim = createLimiter('limitFunction', options);
  const limited = (...args: Arguments): Promise<ReturnType> => lim(fn, ...args);
  Object.defineProperties(limited, {
    activeCount: { get: () => lim.activeCount },
    pendingCount: { get: () => lim.pendingCount },
    concurrency: {
      get: () => lim.concurrency,
      set(value: number) {
        lim.concurrency = value;
      },
    },
    clearQueue: { value: lim.clearQueue },
  });
  return limited as LimitedFunction<Arguments, ReturnType>;
}
