import { describe, expect, it } from 'vitest';
import { Scheduler, type TaskPriority } from '../../src/scheduler/index.js';
import { deferred } from './helpers.js';

describe('priorities', () => {
  it('starts tasks spawned together highest priority first, FIFO within a priority', async () => {
    const s = new Scheduler();
    const order: string[] = [];
    const spawn = (label: string, priority: TaskPriority) => s.spawn(() => order.push(label), { priority });
    const tasks = [
      spawn('low-1', 'low'),
      spawn('normal-1', 'normal'),
      spawn('high-1', 'high'),
      spawn('low-2', 'low'),
      spawn('high-2', 'high'),
      spawn('normal-2', 'normal'),
    ];
    await Promise.all(tasks);
    expect(order).toEqual(['high-1', 'high-2', 'normal-1', 'normal-2', 'low-1', 'low-2']);
  });

  it('a long high-priority generator finishes before a normal one starts (no aging)', async () => {
    const s = new Scheduler({ sliceYields: 10, sliceMs: 10_000, agingMs: Infinity });
    const log: string[] = [];
    const normal = s.spawn(() => log.push('normal'));
    const high = s.spawn(
      function* () {
        for (let i = 0; i < 100; i++) yield;
        log.push('high done');
      },
      { priority: 'high' },
    );
    await Promise.all([normal, high]);
    expect(log).toEqual(['high done', 'normal']);
    expect(s.stats.slices).toBeGreaterThanOrEqual(10);
  });

  it('a high-priority async task is not overtaken by lower-priority work while it runs', async () => {
    const s = new Scheduler({ sliceYields: 50, sliceMs: 10_000, agingMs: Infinity });
    const log: string[] = [];
    const low = s.spawn(() => log.push('low'), { priority: 'low' });
    const high = s.spawn(
      async (ctx) => {
        for (let i = 0; i < 500; i++) await ctx.yield();
        log.push('high done');
      },
      { priority: 'high' },
    );
    await Promise.all([low, high]);
    expect(log).toEqual(['high done', 'low']);
  });

  it('tasks of equal priority take turns slice by slice', async () => {
    const s = new Scheduler({ sliceYields: 4, sliceMs: 10_000 });
    const log: string[] = [];
    const worker = (label: string) =>
      function* () {
        for (let i = 0; i < 12; i++) {
          log.push(label);
          yield;
        }
      };
    await Promise.all([s.spawn(worker('a')), s.spawn(worker('b'))]);
    // Both ran to completion, and neither ran all of its steps before the other started.
    expect(log.filter((l) => l === 'a')).toHaveLength(12);
    expect(log.indexOf('b')).toBeLessThan(log.lastIndexOf('a'));
    expect(log.indexOf('a')).toBeLessThan(log.lastIndexOf('b'));
    const switches = log.filter((l, i) => i > 0 && l !== log[i - 1]).length;
    expect(switches).toBeGreaterThanOrEqual(4);
  });

  it('preempts a running async task at its next yield point when higher-priority work becomes ready', async () => {
    const s = new Scheduler({ sliceMs: 10_000, sliceYields: 1_000_000, agingMs: Infinity });
    const log: string[] = [];
    const gate = deferred();
    const high = s.spawn(
      function* () {
        yield gate.promise;
        log.push('high resumed');
      },
      { priority: 'high' },
    );
    const normal = s.spawn(async (ctx) => {
      for (let i = 0; i < 1000; i++) {
        if (i === 10) gate.resolve();
        log.push(`normal ${i}`);
        await ctx.yield();
      }
    });
    await Promise.all([high, normal]);
    const resumedAt = log.indexOf('high resumed');
    // The gate's reaction runs one microtask after i = 10; the normal task gives way at its next yield point.
    expect(resumedAt).toBeGreaterThan(log.indexOf('normal 10'));
    expect(resumedAt).toBeLessThan(log.indexOf('normal 14'));
  });
});

describe('aging', () => {
  it('never starves low priority: it runs while high-priority work is still going', async () => {
    const s = new Scheduler({ sliceMs: 1, agingMs: 10 });
    const start = performance.now();
    let lowRan = false;
    let highGaveUp = false;
    const high = s.spawn(
      function* () {
        while (!lowRan) {
          // Without aging, low would only run after this gives up (a bound, so a failure cannot hang).
          if (performance.now() - start > 3_000) {
            highGaveUp = true;
            return;
          }
          yield;
        }
      },
      { priority: 'high' },
    );
    const low = s.spawn(
      () => {
        lowRan = true;
        return highGaveUp;
      },
      { priority: 'low' },
    );
    await high;
    // low ran once it had waited about 2 * agingMs, in the middle of the high task's work.
    expect(await low).toBe(false);
  });

  it('with agingMs: Infinity, low priority waits while higher priority stays busy', async () => {
    const s = new Scheduler({ sliceMs: 1, agingMs: Infinity });
    let lowRan = false;
    const start = performance.now();
    const high = s.spawn(
      function* () {
        while (performance.now() - start < 60) yield;
        return lowRan;
      },
      { priority: 'high' },
    );
    const low = s.spawn(
      () => {
        lowRan = true;
      },
      { priority: 'low' },
    );
    expect(await high).toBe(false);
    await low;
    expect(lowRan).toBe(true);
  });

  it('an aged task drops back to its own priority once it has had its turn', async () => {
    const s = new Scheduler({ sliceMs: 1, agingMs: 40 });
    const start = performance.now();
    const lowSlices = new Set<number>();
    const busy = (record: boolean) =>
      function* () {
        while (performance.now() - start < 250) {
          if (record) lowSlices.add(s.stats.slices);
          yield;
        }
      };
    await Promise.all([s.spawn(busy(false), { priority: 'high' }), s.spawn(busy(true), { priority: 'low' })]);
    const slices = s.stats.slices;
    // low got turns (aging), but far fewer than the half it would get if it stayed promoted: after each turn it
    // waits about 2 * agingMs to age again.
    expect(lowSlices.size).toBeGreaterThanOrEqual(1);
    expect(lowSlices.size).toBeLessThan(slices * 0.4);
  });
});
