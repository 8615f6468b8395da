/**
 * End-to-end checks on the real clock: CPU-heavy cooperative tasks must leave the event loop free to serve a 5 ms
 * timer. Bounds are generous (a loaded 2-core CI machine); the blocking contrast shows the measurement can fail.
 */
import { describe, expect, it } from 'vitest';
import { Scheduler } from '../../src/scheduler/index.js';

const WORK_MS = 300;

/** Burns the CPU for about `ms` milliseconds. */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end);
}

/** Counts the ticks of a 5 ms interval while `run` runs. */
async function ticksDuring(run: () => Promise<unknown> | void): Promise<number> {
  let ticks = 0;
  const interval = setInterval(() => ticks++, 5);
  try {
    await run();
    return ticks;
  } finally {
    clearInterval(interval);
  }
}

describe('responsiveness', () => {
  it('a 5 ms interval keeps ticking while CPU-heavy generator, async and async-generator tasks run', async () => {
    const s = new Scheduler({ sliceMs: 5 });
    const start = performance.now();
    const busy = () => performance.now() - start < WORK_MS;
    let units = 0;
    const ticks = await ticksDuring(() =>
      Promise.all([
        s.spawn(function* () {
          while (busy()) {
            spin(0.05);
            units++;
            yield;
          }
        }),
        s.spawn(
          async (ctx) => {
            while (busy()) {
              spin(0.05);
              units++;
              await ctx.yield();
            }
          },
          { priority: 'high' },
        ),
        s.spawn(
          async function* () {
            while (busy()) {
              spin(0.05);
              units++;
              yield;
            }
          },
          { priority: 'low' },
        ),
      ]),
    );
    // Ideally ~60 ticks in 300 ms; a blocked loop gets at most one.
    expect(ticks).toBeGreaterThanOrEqual(15);
    expect(units).toBeGreaterThan(100);
    expect(s.stats.slices).toBeGreaterThanOrEqual(15);
  });

  it('keeps the longest slice near sliceMs when tasks yield often', async () => {
    const s = new Scheduler({ sliceMs: 5 });
    const start = performance.now();
    await s.spawn(function* () {
      while (performance.now() - start < 150) {
        spin(0.02);
        yield;
      }
    });
    const { meanSliceMs, slices } = s.stats;
    expect(slices).toBeGreaterThanOrEqual(10);
    // Slices are ~5 ms (the last one is shorter); generous bound for a loaded machine.
    expect(meanSliceMs).toBeGreaterThan(2);
    expect(meanSliceMs).toBeLessThan(25);
  });

  it('by contrast, the same work as one blocking loop starves the interval', async () => {
    const ticks = await ticksDuring(async () => {
      await new Promise((resolve) => setTimeout(resolve, 6)); // let the interval start
      const before = performance.now();
      spin(WORK_MS);
      expect(performance.now() - before).toBeGreaterThanOrEqual(WORK_MS);
    });
    expect(ticks).toBeLessThanOrEqual(3);
  });
});
