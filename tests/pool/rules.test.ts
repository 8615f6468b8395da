// The pool's scheduling rules, called directly on fake workers (no threads): src/pool/dispatch-rules.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as rules from '../../src/pool/dispatch-rules.js';

const { INITIAL_AVERAGE_RUN, MAX_WINDOW, PIPELINE_BUDGET_MS, dispatchTasks, isIdle, nextAverageRun } = rules;
const { stealCount, stealVictim, threadsWanted, windowSize } = rules;
type WorkerLoad = rules.WorkerLoad;

class FakeWorker implements WorkerLoad {
  sent = 0;
  constructor(
    readonly name: string,
    public ready = true,
    public load = 0,
    public free = 256,
  ) {}

  freeSlots(): number {
    return this.free;
  }
}

/** A `send` that takes what it is offered, as a worker with room does. */
function take(worker: FakeWorker, count: number): number {
  worker.load += count;
  worker.free -= count;
  worker.sent += count;
  return count;
}

/** Plain records: the property builds fresh workers from them, since `send` mutates workers (and shrinking reruns). */
const workerRecord = fc.record({ ready: fc.boolean(), load: fc.nat(70), free: fc.nat(256) });

describe('windowSize', () => {
  it('is one where a sent task cannot be taken back', () => {
    expect(windowSize(0.001, false)).toBe(1);
  });

  it('fits the pipeline budget: 4 tasks at the start, 1 for long tasks, at most MAX_WINDOW', () => {
    expect(windowSize(INITIAL_AVERAGE_RUN, true)).toBe(4);
    expect(windowSize(PIPELINE_BUDGET_MS * 3, true)).toBe(1);
    expect(windowSize(1e-6, true)).toBe(MAX_WINDOW);
  });

  it('stays within [1, MAX_WINDOW] and narrows as tasks get longer', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 1e-9, max: 1e6, noNaN: true }),
        fc.double({ min: 1e-9, max: 1e6, noNaN: true }),
        (a, b) => {
          const [short, long] = a <= b ? [a, b] : [b, a];
          const narrow = windowSize(long, true);
          expect(narrow).toBeGreaterThanOrEqual(1);
          expect(windowSize(short, true)).toBeLessThanOrEqual(MAX_WINDOW);
          expect(windowSize(short, true)).toBeGreaterThanOrEqual(narrow);
        },
      ),
    );
  });
});

describe('nextAverageRun', () => {
  it('jumps to a long run at once and moves a tenth of the way towards short ones', () => {
    expect(nextAverageRun(0.25, 50)).toBe(50);
    expect(nextAverageRun(50, 0.1)).toBeCloseTo(50 - 49.9 * 0.1, 10);
    expect(nextAverageRun(0.2, 0.3)).toBeCloseTo(0.21, 10);
  });

  it('lands between the old average and the new run', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1e5, noNaN: true }),
        fc.double({ min: 0, max: 1e5, noNaN: true }),
        (average, run) => {
          const next = nextAverageRun(average, run);
          expect(next).toBeGreaterThanOrEqual(Math.min(average, run) - 1e-9);
          expect(next).toBeLessThanOrEqual(Math.max(average, run) + 1e-9);
        },
      ),
    );
  });
});

describe('dispatchTasks', () => {
  it('sends within the window and free slots of each ready worker, nobody else, and progresses while there is room', () => {
    fc.assert(
      fc.property(
        fc.array(workerRecord, { maxLength: 6 }),
        fc.nat(500),
        fc.integer({ min: 1, max: MAX_WINDOW }),
        (records, waiting, window) => {
          const workers = records.map((r) => new FakeWorker('w', r.ready, r.load, r.free));
          const room = workers.map((w) => (w.ready ? Math.max(0, Math.min(window - w.load, w.free)) : 0));
          const left = dispatchTasks(workers, waiting, window, take);
          const capacity = room.reduce((a, b) => a + b, 0);
          workers.forEach((w, i) => expect(w.sent).toBeLessThanOrEqual(room[i]!));
          expect(left).toBe(waiting - workers.reduce((sum, w) => sum + w.sent, 0));
          if (waiting > 0 && capacity > 0) expect(left).toBeLessThan(waiting);
          // Idle workers alone are filled to what fits (an even share capped by one busy worker's room can leave
          // some room for the next dispatch, which follows the next answer).
          if (workers.every((w, i) => room[i] === 0 || records[i]!.load === 0)) {
            expect(left).toBe(waiting - Math.min(waiting, capacity));
          }
        },
      ),
    );
  });

  it('serves idle workers before busy ones', () => {
    const busy = new FakeWorker('busy', true, 1);
    const idle = new FakeWorker('idle');
    expect(dispatchTasks([busy, idle], 1, 4, take)).toBe(0);
    expect(idle.sent).toBe(1);
    expect(busy.sent).toBe(0);
  });

  it('gives idle workers even shares of a burst', () => {
    const workers = [new FakeWorker('a'), new FakeWorker('b'), new FakeWorker('c')];
    dispatchTasks(workers, 9, MAX_WINDOW, take);
    expect(workers.map((w) => w.sent)).toEqual([3, 3, 3]);
  });

  it('counts what left the queue as send reports it (tasks that fail before sending count too)', () => {
    const worker = new FakeWorker('a');
    const left = dispatchTasks([worker], 10, 4, (w, count) => take(w, Math.min(count, 2)));
    // Offered 4 (its window), 2 left; the second pass tops it up to its window: offered 2, 2 left.
    expect(left).toBe(6);
    expect(worker.load).toBe(4);
  });

  it('sends nothing to a worker that is starting, full, or out of slots', () => {
    const workers = [
      new FakeWorker('starting', false),
      new FakeWorker('full', true, 4),
      new FakeWorker('no slots', true, 0, 0),
    ];
    expect(dispatchTasks(workers, 5, 4, take)).toBe(5);
    expect(workers.every((w) => w.sent === 0)).toBe(true);
  });
});

describe('work stealing', () => {
  it('an idle ready worker steals from the ready worker with the most tasks queued behind its running one', () => {
    const thief = new FakeWorker('thief');
    const some = new FakeWorker('some', true, 3);
    const most = new FakeWorker('most', true, 9);
    const starting = new FakeWorker('starting', false, 20);
    expect(isIdle(thief)).toBe(true);
    expect(isIdle(some)).toBe(false);
    expect(stealVictim([some, most, starting, thief], thief)).toBe(most);
  });

  it('finds no victim when every other worker runs at most one task', () => {
    const thief = new FakeWorker('thief');
    expect(stealVictim([thief, new FakeWorker('a', true, 1), new FakeWorker('b')], thief)).toBeUndefined();
  });

  it('takes half of the queued tasks, rounded up, within its window and free slots', () => {
    expect(stealCount(new FakeWorker('v', true, 10), new FakeWorker('t'), 64)).toBe(5); // 9 queued
    expect(stealCount(new FakeWorker('v', true, 2), new FakeWorker('t'), 64)).toBe(1);
    expect(stealCount(new FakeWorker('v', true, 41), new FakeWorker('t'), 8)).toBe(8);
    expect(stealCount(new FakeWorker('v', true, 41), new FakeWorker('t', true, 0, 3), 64)).toBe(3);
  });
});

describe('threadsWanted', () => {
  it('follows demand between minThreads and maxThreads; none are kept once closed', () => {
    expect(threadsWanted(0, 2, 4, false)).toBe(2);
    expect(threadsWanted(3, 2, 4, false)).toBe(3);
    expect(threadsWanted(100, 2, 4, false)).toBe(4);
    expect(threadsWanted(0, 2, 4, true)).toBe(0);
    expect(threadsWanted(1, 2, 4, true)).toBe(1);
  });
});
