/** Helpers shared by the test suites: deterministic microtask flushing and promise-state probes. */

/** Lets every already-queued promise reaction run (enough turns for chains of a few dozen `then`s). */
export async function flush(turns = 50): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve();
}

export type PromiseState = 'pending' | 'fulfilled' | 'rejected';

/** The state of `promise` after flushing microtasks. Marks the promise handled. */
export async function stateOf(promise: PromiseLike<unknown>): Promise<PromiseState> {
  let state: PromiseState = 'pending';
  Promise.resolve(promise).then(
    () => (state = 'fulfilled'),
    () => (state = 'rejected'),
  );
  await flush();
  return state;
}

/** Asserts that `promise` is still pending after every queued microtask ran. */
export async function expectPending(promise: PromiseLike<unknown>): Promise<void> {
  const state = await stateOf(promise);
  if (state !== 'pending') throw new Error(`expected the promise to be pending, but it is ${state}`);
}

/** The rejection reason of `promise` (fails if it fulfils). */
export async function rejectionOf(promise: PromiseLike<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, but it fulfilled');
}

/** The V8 garbage collector, exposed at run time (`undefined` where it cannot be). */
export async function loadGc(): Promise<(() => void) | undefined> {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing !== undefined) return existing;
  try {
    const v8 = await import('node:v8');
    const vm = await import('node:vm');
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}
