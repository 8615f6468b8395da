/**
 * Promise helpers for hot paths: a pending promise made without an executor closure, one shared fulfilled promise,
 * and a no-op function.
 */

let capturedResolve: (value: never) => void;
function captureResolve(resolve: (value: never) => void): void {
  capturedResolve = resolve;
}

/**
 * A new pending promise, made without allocating an executor closure. Take its resolve function with
 * {@link takeResolve} right after, before making another. Callers reject by resolving with a rejected promise, so
 * one function per pending promise is kept instead of two.
 */
export function pendingPromise<T>(): Promise<T> {
  return new Promise<T>(captureResolve);
}

/** The resolve function of the promise {@link pendingPromise} made last. */
export function takeResolve<T>(): (value: T | PromiseLike<T>) => void {
  return capturedResolve as (value: T | PromiseLike<T>) => void;
}

let resolvedPromise: Promise<void> | undefined;

/** One shared, already fulfilled promise (made on first use, so importing has no side effect). */
export function resolved(): Promise<void> {
  return (resolvedPromise ??= Promise.resolve());
}

/** Does nothing: the settled state of a resolve function, a placeholder for dropped callbacks, a `catch` sink. */
export function ignore(): void {}

/** A promise rejected with `reason`, which is the caller's to choose (an abort reason need not be an Error). */
export function rejected(reason: unknown): Promise<never> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- cancellation reasons are any value
  return Promise.reject(reason);
}

/** Whether `value` has a callable `then`, as `await` and promise resolution decide it. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    ((typeof value === 'object' && value !== null) || typeof value === 'function') &&
    typeof (value as PromiseLike<unknown>).then === 'function'
  );
}
