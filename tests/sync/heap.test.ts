/**
 * Nothing weft drops may stay in memory: each scenario runs in a child process started with `--expose-gc` (so the
 * measure is not disturbed by other tests), queues 100k calls on a primitive and drops it (or keeps it and gives up
 * on 50k waits), and reports the heap still in use after a few event-loop turns and full collections.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '..', '..');
const fixture = path.join(root, 'tests', 'fixtures', 'sync', 'dropped-heap.ts');

/** 100k queued calls hold tens of megabytes; a dropped primitive may leave compiled code and caches behind. */
const RETAINED_LIMIT = 2 * 1024 * 1024;

async function retainedBytes(scenario: string): Promise<number> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', fixture, scenario],
    { cwd: root, encoding: 'utf8', timeout: 60_000 },
  );
  return Number(stdout.trim());
}

describe('a dropped primitive is collected with everything queued on it', () => {
  it.each(['limit', 'Semaphore.run', 'Mutex.lock'])('%s', async (scenario) => {
    const retained = await retainedBytes(scenario);
    expect(Number.isFinite(retained)).toBe(true);
    expect(retained).toBeLessThan(RETAINED_LIMIT);
  });
});

describe('a primitive keeps nothing of the waits given up on', () => {
  it.each(['Mutex.waitForUnlock aborted', 'Semaphore.waitForUnlock aborted'])('%s', async (scenario) => {
    const retained = await retainedBytes(scenario);
    expect(Number.isFinite(retained)).toBe(true);
    // 50k waiters left queued would hold about 4 MB.
    expect(retained).toBeLessThan(RETAINED_LIMIT / 2);
  });
});
