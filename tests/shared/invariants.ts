/** Checks a shared lock's memory against the invariants written in src/shared/layout.ts. */
import { dropGuard, guardTag, takeGuard } from '../../src/shared/guard.js';
import type { SharedHandle } from '../../src/shared/index.js';
import { checkInvariants } from '../../src/shared/layout.js';

/**
 * Takes the lock's guard (as the main thread), checks the invariants and lets the guard go: safe while other threads
 * use the lock, since they change its memory only under the guard. Throws naming every broken rule.
 */
export function expectInvariants(lock: { readonly handle: SharedHandle }): void {
  const s = new Int32Array(lock.handle.buffer);
  const g = takeGuard(s, guardTag(0));
  try {
    checkInvariants(s);
  } finally {
    dropGuard(s, g);
  }
}

/**
 * Checks the invariants of `lock` every millisecond or so while `work` runs on other threads, and once more at the
 * end. Resolves to what `work` resolved to and the number of checks made.
 */
export async function checkedWhile<T>(
  lock: { readonly handle: SharedHandle },
  work: Promise<T>,
): Promise<{ result: T; checks: number }> {
  let checks = 0;
  let failure: Error | undefined;
  const timer = setInterval(() => {
    try {
      expectInvariants(lock);
      checks++;
    } catch (error) {
      failure ??= error as Error;
    }
  }, 1);
  try {
    const result = await work;
    if (failure !== undefined) throw failure;
    expectInvariants(lock);
    return { result, checks: checks + 1 };
  } finally {
    clearInterval(timer);
  }
}
