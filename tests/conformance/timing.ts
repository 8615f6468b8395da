/**
 * Real-clock helpers for the conformance suites. They run against in-thread primitives (settled by microtasks) and
 * cross-thread ones (settled when `Atomics.waitAsync` wakes up, a later task), so they never assume how soon a
 * grant arrives: they wait for it, with generous bounds.
 */

export type Outcome = 'fulfilled' | 'rejected' | 'pending';

/** Resolves after `ms` milliseconds of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How `promise` stands after waiting up to `ms` for it (marks it handled). */
export async function outcomeWithin(promise: PromiseLike<unknown>, ms = 50): Promise<Outcome> {
  let outcome: Outcome = 'pending';
  const watched = Promise.resolve(promise).then(
    () => (outcome = 'fulfilled'),
    () => (outcome = 'rejected'),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([watched, new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
  return outcome;
}

/** Waits until `check()` is true, polling; fails after `ms`. */
export async function eventually(check: () => boolean, ms = 2_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(1);
  }
}

export { rejectionOf } from '../helpers.js';
