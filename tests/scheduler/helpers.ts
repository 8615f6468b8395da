/** Helpers for the scheduler tests. */

// Captured at load, before any test installs fake timers (the scheduler captures its macrotask the same way).
const realSetImmediate = globalThis.setImmediate;

/** Waits one real macrotask turn (slices run in macrotasks). */
export function macrotask(): Promise<void> {
  return new Promise((resolve) => realSetImmediate(resolve));
}

/** Waits `n` real macrotask turns. */
export async function macrotasks(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await macrotask();
}

/** A promise with its resolve and reject functions. */
export function deferred<T = void>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Settles `task` into a plain record, so a rejection is observed (handled) and can be asserted. */
export async function outcome(task: PromiseLike<unknown>): Promise<{ ok: boolean; value: unknown }> {
  try {
    return { ok: true, value: await task };
  } catch (error) {
    return { ok: false, value: error };
  }
}
