/**
 * Property-based tests: random mixes of task kinds, priorities, yield counts, awaits, failures and cancellations, on
 * schedulers with random slice budgets. Invariants: every task settles exactly once with the outcome its code and
 * its cancellation imply; cleanup (`finally`) runs exactly once for every task that started; no task code runs after
 * its cancellation; tasks spawned together start in priority order; the scheduler ends empty; a scope settles only
 * after all its children and reports exactly the children that failed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Scheduler, scope, type Task, type TaskFn, type TaskPriority } from '../../src/scheduler/index.js';
import { flush } from '../helpers.js';
import { macrotask, macrotasks, outcome } from './helpers.js';

type Kind = 'gen' | 'agen' | 'async' | 'sync';

interface Spec {
  kind: Kind;
  priority: TaskPriority;
  steps: number;
  awaitAt: number;
  fails: boolean;
  cancelAfter: number | undefined;
}

const specArb: fc.Arbitrary<Spec> = fc.record({
  kind: fc.constantFrom<Kind>('gen', 'agen', 'async', 'sync'),
  priority: fc.constantFrom<TaskPriority>('high', 'normal', 'low'),
  steps: fc.integer({ min: 0, max: 12 }),
  awaitAt: fc.integer({ min: -1, max: 12 }),
  fails: fc.boolean(),
  cancelAfter: fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined }),
});

const RANK: Record<TaskPriority, number> = { high: 0, normal: 1, low: 2 };

interface Journal {
  events: string[];
  finals: number[];
  errors: Error[];
}

function taskFn(id: number, spec: Spec, journal: Journal): TaskFn<number> {
  const { events, finals, errors } = journal;
  const finish = (): number => {
    if (spec.fails) throw errors[id]!;
    return id;
  };
  switch (spec.kind) {
    case 'gen':
      return function* () {
        events.push(`start ${id}`);
        try {
          for (let i = 0; i < spec.steps; i++) {
            events.push(`step ${id}`);
            if (i === spec.awaitAt) yield Promise.resolve();
            else yield;
          }
          return finish();
        } finally {
          finals[id]!++;
        }
      };
    case 'agen':
      return async function* () {
        events.push(`start ${id}`);
        try {
          for (let i = 0; i < spec.steps; i++) {
            events.push(`step ${id}`);
            if (i === spec.awaitAt) await Promise.resolve();
            yield;
          }
          return finish();
        } finally {
          finals[id]!++;
        }
      };
    case 'async':
      return async (ctx) => {
        events.push(`start ${id}`);
        try {
          for (let i = 0; i < spec.steps; i++) {
            events.push(`step ${id}`);
            if (i === spec.awaitAt) await Promise.resolve();
            await ctx.yield();
          }
          return finish();
        } finally {
          finals[id]!++;
        }
      };
    default:
      return () => {
        events.push(`start ${id}`);
        try {
          return finish();
        } finally {
          finals[id]!++;
        }
      };
  }
}

describe('scheduler properties', () => {
  it('every task settles once, as its code and cancellation imply; cleanup runs once; priorities order starts', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(specArb, { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 1, max: 20 }),
        async (specs, sliceYields) => {
          const s = new Scheduler({ sliceYields, sliceMs: 10_000, agingMs: Infinity });
          const journal: Journal = {
            events: [],
            finals: specs.map(() => 0),
            errors: specs.map((_, id) => new Error(`task ${id} failed`)),
          };
          const tasks: Task<number>[] = specs.map((spec, id) =>
            s.spawn(taskFn(id, spec, journal), { priority: spec.priority }),
          );
          const reasons = specs.map((_, id) => new Error(`cancel ${id}`));
          const cancelledAt = specs.map((): number | undefined => undefined);
          const settledBeforeCancel = specs.map(() => false);
          for (let turn = 0; turn <= 5; turn++) {
            specs.forEach((spec, id) => {
              if (spec.cancelAfter !== turn) return;
              const task = tasks[id]!;
              settledBeforeCancel[id] = task.status === 'done' || task.status === 'failed';
              cancelledAt[id] = journal.events.length;
              task.cancel(reasons[id]);
            });
            await macrotask();
          }
          const results = await Promise.all(tasks.map(outcome));
          await flush();
          await macrotasks(2);

          specs.forEach((spec, id) => {
            const task = tasks[id]!;
            const result = results[id]!;
            const started = journal.events.includes(`start ${id}`);
            if (cancelledAt[id] !== undefined && !settledBeforeCancel[id]) {
              expect(task.status).toBe('cancelled');
              expect(result).toEqual({ ok: false, value: reasons[id] });
              // No code of the task ran after the cancel (its finally aside).
              const after = journal.events.slice(cancelledAt[id]);
              expect(after.filter((e) => e === `step ${id}` || e === `start ${id}`)).toEqual([]);
            } else if (spec.fails) {
              expect(task.status).toBe('failed');
              expect(result).toEqual({ ok: false, value: journal.errors[id] });
            } else {
              expect(task.status).toBe('done');
              expect(result).toEqual({ ok: true, value: id });
            }
            if (started) {
              expect(journal.events.filter((e) => e === `step ${id}`).length).toBeLessThanOrEqual(spec.steps);
            }
            expect(journal.finals[id]).toBe(started ? 1 : 0);
          });

          // Tasks spawned together start highest priority first, in spawn order within a priority.
          const startOrder = journal.events
            .filter((e) => e.startsWith('start '))
            .map((e) => Number(e.slice(6)));
          const sorted = [...startOrder].sort(
            (a, b) => RANK[specs[a]!.priority] - RANK[specs[b]!.priority] || a - b,
          );
          expect(startOrder).toEqual(sorted);

          const stats = s.stats;
          expect(stats.active).toBe(0);
          expect(stats.queued).toBe(0);
          expect(stats.spawned).toBe(specs.length);
          expect(stats.completed + stats.failed + stats.cancelled).toBe(specs.length);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('a scope settles after all its children, and rejects with exactly the failures', async () => {
    const childArb = fc.record({
      kind: fc.constantFrom<Kind>('gen', 'async', 'sync'),
      delay: fc.integer({ min: 0, max: 4 }),
      fails: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(childArb, { maxLength: 8 }), fc.boolean(), async (children, bodyFails) => {
        const s = new Scheduler({ sliceYields: 3, sliceMs: 10_000 });
        const errors = children.map((_, i) => new Error(`child ${i}`));
        const bodyError = new Error('body');
        const tasks: Task<number>[] = [];
        const result = await outcome(
          scope(
            async (sc) => {
              children.forEach((child, i) => {
                const end = (): number => {
                  if (child.fails) throw errors[i]!;
                  return i;
                };
                let fn: TaskFn<number>;
                if (child.kind === 'gen') {
                  fn = function* () {
                    for (let k = 0; k < child.delay; k++) yield;
                    return end();
                  };
                } else if (child.kind === 'async') {
                  fn = async (ctx) => {
                    for (let k = 0; k < child.delay; k++) await ctx.yield();
                    return end();
                  };
                } else fn = end;
                tasks.push(sc.spawn(fn));
              });
              await macrotask();
              if (bodyFails) throw bodyError;
              return 'ok';
            },
            { scheduler: s },
          ),
        );
        // Every child has settled by the time the scope settles.
        for (const task of tasks) expect(['done', 'failed', 'cancelled']).toContain(task.status);
        const failures = [
          ...tasks.flatMap((task, i) => (task.status === 'failed' ? [errors[i]!] : [])),
          ...(bodyFails ? [bodyError] : []),
        ];
        if (failures.length === 0) expect(result).toEqual({ ok: true, value: 'ok' });
        else if (failures.length === 1) expect(result).toEqual({ ok: false, value: failures[0] });
        else {
          expect(result.ok).toBe(false);
          expect(result.value).toBeInstanceOf(AggregateError);
          expect(new Set((result.value as AggregateError).errors)).toEqual(new Set(failures));
        }
        expect(s.stats.active).toBe(0);
      }),
      { numRuns: 120 },
    );
  });
});
