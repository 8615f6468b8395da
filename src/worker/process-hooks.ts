/** Hooks into the ways a Node.js worker can end itself, so it can send what it still holds before it goes. */

/**
 * Makes `process[method]` call `callback` first (`callback` runs at most once; its errors do not stop the exit).
 * Arguments pass through as given: `process.exit()` and `process.exit(undefined)` differ for Node.
 */
export function runBeforeProcess(method: 'exit' | 'abort', callback: () => void): void {
  const proc = process as unknown as Record<string, (...args: unknown[]) => never>;
  const original = proc[method]!;
  let called = false;
  proc[method] = function (this: unknown, ...args: unknown[]): never {
    try {
      if (!called) {
        called = true;
        callback();
      }
    } finally {
      Reflect.apply(original, this, args);
    }
    throw new Error('unreachable');
  };
}
