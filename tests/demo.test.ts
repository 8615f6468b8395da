/**
 * The demo teaches which model fits which job; this checks that its verdicts agree with its own measurements, so the
 * teaching never contradicts the numbers. Real clocks, so the claims asserted are the robust ones (a 20 ms-latency
 * server makes concurrency win I/O by a wide margin; 2+ cores make the pool win CPU work).
 */
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { hasRedisServer } from '../demo/cluster.js';
import { runDemo } from '../demo/measure.js';
import { verdicts } from '../demo/verdict.js';

describe('demo verdicts', () => {
  it('agree with the measurements they are drawn from', { timeout: 90_000, retry: 2 }, async () => {
    const result = await runDemo({ quick: true });
    const [io, cpu, cluster] = verdicts(result);
    for (const verdict of [io!, cpu!]) {
      const rows = result.measurements.filter((m) => m.job === verdict.job);
      const best = rows.reduce((a, b) => (b.ms < a.ms ? b : a));
      expect(verdict.fastest).toBe(best.model);
    }
    const byModel = (job: string, model: string) =>
      result.measurements.find((m) => m.job === job && m.model === model)!;
    // Concurrency wins I/O-bound work: overlapping waits beats sequential by far, and threads do not beat it clearly.
    expect(byModel('io', 'sequential').ms).toBeGreaterThan(3 * byModel('io', 'concurrent').ms);
    expect(io!.text).toContain('asynchrony wins');
    if ((os.availableParallelism?.() ?? os.cpus().length) >= 2) {
      // The pool wins CPU-bound work on two or more cores.
      expect(cpu!.fastest).toBe('pool');
      expect(cpu!.text).toContain('parallelism wins');
    }
    // With redis-server on the PATH, the CPU job also ran over 2 processes through a RedisChannel; without it, one line.
    const clusterRow = result.measurements.find((m) => m.job === 'cluster');
    if (hasRedisServer()) {
      expect(clusterRow?.model).toBe('redis');
      expect(cluster!.text).toContain('Across processes');
      expect(cluster!.text).toContain(
        byModel('cpu', 'inline').ms / clusterRow!.ms >= 1.2 ? 'faster than inline' : 'no faster',
      );
    } else {
      expect(clusterRow).toBeUndefined();
      expect(result.clusterSkipped).toMatch(/redis-server/);
    }
    // Cooperative scheduling keeps the loop responsive where inline work freezes it.
    expect(byModel('cpu', 'cooperative').loopDelayP99).toBeLessThan(byModel('cpu', 'inline').loopDelayMax);
  });
});
