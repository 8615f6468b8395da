/**
 * Tasks spawned through `ctx.spawn` are children of the running task: cancelling the parent (by `cancel()`, its
 * `signal` or its `timeout`) cancels every unfinished child with the same reason, down to grandchildren; a parent that
 * returns or throws leaves them running; a child that settles is no longer referenced by its parent.
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Scheduler, scope, type Task, type TaskContext, type TaskFn } from '../../src/scheduler/index.js';
import { flush, loadGc, rejectionOf } from '../helpers.js';
import { macrotask, macrotasks, outcome } from './helpers.js';

/** Waits real macrotask turns (slices) until `condition` holds. */
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !condition(); i++) await macrotask();
  expect(condition()).toBe(true);
}

/** A generator task that runs until cancelled, reporting its context. */
function endless(onStart?: (ctx: TaskContext) => void): TaskFn<never> {
  return function* (ctx) {
    onStart?.(ctx);
    for (;;) yield;
  };
}

describe('ctx.spawn: cancelling a parent cancels its children', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('parent.cancel(reason) cancels a running child with the same reason (issue 15)', async () => {
    const s = new Scheduler();
    let childCtx: TaskContext | undefined;
    let child: Task<never> | undefined;
    const log: string[] = [];
    const parent = s.spawn(function* (ctx) {
      child = ctx.spawn(function* (c) {
        childCtx = c;
        try {
          for (;;) yield;
        } finally {
          log.push('child finally');
        }
      });
      for (;;) yield;
    });
    await until(() => child?.status === 'running');
    const reason = new Error('stop');
    parent.cancel(reason);
    expect(parent.status).toBe('cancelled');
    expect(child!.status).toBe('cancelled');
    expect(childCtx!.signal.aborted).toBe(true);
    expect(childCtx!.signal.reason).toBe(reason);
    expect(log).toEqual(['child finally']);
    expect(await rejectionOf(child!)).toBe(reason);
    expect(await rejectionOf(parent)).toBe(reason);
    expect(s.stats).toMatchObject({ active: 0, cancelled: 2 });
  });

  it('cancels a child that has not started yet: it never runs', async () => {
    const s = new Scheduler();
    let ran = false;
    let child: Task<void> | undefined;
    const parent = s.spawn(function* (ctx) {
      child = ctx.spawn(() => {
        ran = true;
      });
      for (;;) yield;
    });
    await macrotask();
    expect(child!.status).toBe('pending');
    parent.cancel();
    expect(child!.status).toBe('cancelled');
    expect(await rejectionOf(child!)).toBe(await rejectionOf(parent));
    await macrotasks(2);
    expect(ran).toBe(false);
  });

  it("aborting the parent's signal cancels its children with signal.reason", async () => {
    const s = new Scheduler();
    const controller = new AbortController();
    let child: Task<never> | undefined;
    const parent = s.spawn(
      function* (ctx) {
        child = ctx.spawn(endless());
        for (;;) yield;
      },
      { signal: controller.signal },
    );
    await until(() => child?.status === 'running');
    const reason = new Error('aborted from outside');
    controller.abort(reason);
    expect(parent.status).toBe('cancelled');
    expect(child!.status).toBe('cancelled');
    expect(await rejectionOf(child!)).toBe(reason);
  });

  it("the parent's timeout cancels its children with the same TimeoutError", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = new Scheduler();
    let child: Task<never> | undefined;
    const parent = s.spawn(
      function* (ctx) {
        child = ctx.spawn(endless(), { timeout: 10_000 });
        for (;;) yield;
      },
      { timeout: 50, name: 'parent' },
    );
    await until(() => child?.status === 'running');
    await vi.advanceTimersByTimeAsync(49);
    expect(child!.status).toBe('running');
    await vi.advanceTimersByTimeAsync(1);
    expect(parent.status).toBe('cancelled');
    expect(child!.status).toBe('cancelled');
    const error = (await rejectionOf(child!)) as DOMException;
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toBe('Task "parent" timed out after 50 ms');
    expect(error).toBe(await rejectionOf(parent));
  });

  it('cancels grandchildren, and async children of async parents', async () => {
    const s = new Scheduler();
    const signals: AbortSignal[] = [];
    const tasks: Task<unknown>[] = [];
    const root = s.spawn(async (ctx) => {
      tasks.push(
        ctx.spawn(function* (c) {
          signals.push(c.signal);
          tasks.push(
            c.spawn(async (g) => {
              signals.push(g.signal);
              for (;;) await g.yield();
            }),
          );
          for (;;) yield;
        }),
      );
      for (;;) await ctx.yield();
    });
    await until(() => tasks.length === 2 && tasks.every((t) => t.status === 'running'));
    const reason = new Error('tree cancelled');
    root.cancel(reason);
    expect(tasks.map((t) => t.status)).toEqual(['cancelled', 'cancelled']);
    expect(signals.map((signal) => signal.reason as unknown)).toEqual([reason, reason]);
    for (const task of tasks) expect(await rejectionOf(task)).toBe(reason);
  });

  it('leaves a child that already finished as it was', async () => {
    const s = new Scheduler();
    let child: Task<string> | undefined;
    const parent = s.spawn(function* (ctx) {
      child = ctx.spawn(() => 'finished');
      yield child;
      for (;;) yield;
    });
    await until(() => child?.status === 'done');
    parent.cancel();
    expect(child!.status).toBe('done');
    expect(child!.signal.aborted).toBe(false);
    expect(await child!).toBe('finished');
  });

  it('a child with its own signal: either cancellation cancels it, and its own leaves the parent alone', async () => {
    const s = new Scheduler();
    const own = [new AbortController(), new AbortController()];
    const children: Task<never>[] = [];
    const parent = s.spawn(function* (ctx) {
      for (const controller of own) children.push(ctx.spawn(endless(), { signal: controller.signal }));
      for (;;) yield;
    });
    await until(() => children.length === 2 && children.every((c) => c.status === 'running'));
    const ownReason = new Error('own signal');
    own[0]!.abort(ownReason);
    expect(children.map((c) => c.status)).toEqual(['cancelled', 'running']);
    expect(parent.status).toBe('running');
    const parentReason = new Error('parent cancelled');
    parent.cancel(parentReason);
    expect(children.map((c) => c.status)).toEqual(['cancelled', 'cancelled']);
    expect(await rejectionOf(children[0]!)).toBe(ownReason);
    expect(await rejectionOf(children[1]!)).toBe(parentReason);
    own[1]!.abort(new Error('too late'));
    expect(await rejectionOf(children[1]!)).toBe(parentReason);
  });

  it('a child spawned while the parent is being cancelled (from its finally) is cancelled at once', async () => {
    const s = new Scheduler();
    let late: Task<never> | undefined;
    const parent = s.spawn(function* (ctx) {
      try {
        for (;;) yield;
      } finally {
        late = ctx.spawn(endless());
      }
    });
    await macrotask();
    const reason = new Error('bye');
    parent.cancel(reason);
    expect(late!.status).toBe('cancelled');
    expect(await rejectionOf(late!)).toBe(reason);
  });

  it("ctx.spawn on a settled parent's context: cancelled at once if the parent was cancelled, else on its own", async () => {
    const s = new Scheduler();
    const contexts: TaskContext[] = [];
    const keep = (ctx: TaskContext): void => void contexts.push(ctx);
    const cancelled = s.spawn(endless(keep));
    const finished = s.spawn((ctx) => keep(ctx));
    await until(() => contexts.length === 2 && finished.status === 'done');
    const reason = new Error('parent gone');
    cancelled.cancel(reason);
    await rejectionOf(cancelled);
    const late = contexts[0]!.spawn(endless());
    expect(late.status).toBe('cancelled');
    expect(await rejectionOf(late)).toBe(reason);
    const orphan = contexts[1]!.spawn(endless());
    await until(() => orphan.status === 'running');
    finished.cancel();
    expect(orphan.status).toBe('running');
    orphan.cancel();
    await rejectionOf(orphan);
  });

  it('a parent cancelled from its own code cancels its children', async () => {
    const s = new Scheduler();
    let child: Task<never> | undefined;
    const reason = new Error('self');
    const parent: Task<void> = s.spawn(function* (ctx) {
      child = ctx.spawn(endless());
      yield;
      yield;
      parent.cancel(reason);
      yield;
    });
    expect(await rejectionOf(parent)).toBe(reason);
    expect(child!.status).toBe('cancelled');
    expect(await rejectionOf(child!)).toBe(reason);
  });

  it('a scope cancels the ctx.spawn children of its tasks', async () => {
    const s = new Scheduler();
    let grandchild: Task<never> | undefined;
    const controller = new AbortController();
    const done = scope(
      async ({ spawn, signal }) => {
        spawn(function* (ctx) {
          grandchild = ctx.spawn(endless());
          for (;;) yield;
        });
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        throw signal.reason;
      },
      { scheduler: s, signal: controller.signal },
    );
    await until(() => grandchild?.status === 'running');
    const reason = new Error('scope aborted');
    controller.abort(reason);
    expect(grandchild!.status).toBe('cancelled');
    expect(await rejectionOf(grandchild!)).toBe(reason);
    expect(await rejectionOf(done)).toBe(reason);
  });
});

describe('ctx.spawn: a parent that ends otherwise leaves its children running', () => {
  it.each([
    ['returns', false],
    ['throws', true],
  ])('a parent that %s does not cancel its children', async (_, fails) => {
    const s = new Scheduler();
    let child: Task<never> | undefined;
    const parent = s.spawn(function* (ctx) {
      child = ctx.spawn(endless());
      yield;
      if (fails) throw new Error('parent failed');
      return 'parent done';
    });
    const result = await outcome(parent);
    expect(result.ok).toBe(!fails);
    await until(() => child?.status === 'running');
    // Cancelling the settled parent does nothing either.
    parent.cancel();
    expect(child!.status).toBe('running');
    child!.cancel();
    expect(child!.status).toBe('cancelled');
    await rejectionOf(child!);
  });

  it('tasks spawned through the scheduler (not ctx.spawn) are not children', async () => {
    const s = new Scheduler();
    let other: Task<never> | undefined;
    const parent = s.spawn(function* () {
      other = s.spawn(endless());
      for (;;) yield;
    });
    await until(() => other?.status === 'running');
    parent.cancel();
    expect(other!.status).toBe('running');
    other!.cancel();
    await rejectionOf(other!);
    await rejectionOf(parent);
  });

  it('a long-lived parent does not keep the children that settled', async () => {
    const gc = await loadGc();
    if (gc === undefined) return;
    const s = new Scheduler();
    const refs: WeakRef<object>[] = [];
    const parent = s.spawn(async (ctx) => {
      for (let i = 0; i < 200; i++) {
        const child = ctx.spawn(() => i);
        refs.push(new WeakRef(child));
        await child;
      }
      for (;;) await ctx.yield();
    });
    while (refs.length < 200) await macrotask();
    await macrotasks(3);
    gc();
    await macrotask();
    gc();
    expect(refs.filter((ref) => ref.deref() !== undefined).length).toBeLessThanOrEqual(1);
    parent.cancel();
    await rejectionOf(parent);
  });
});

describe('ctx.spawn: property', () => {
  interface Node {
    parent: number; // -1 for a root
    kind: 'gen' | 'async';
    /** Yield points before it ends; undefined: runs until cancelled. */
    steps: number | undefined;
    fails: boolean;
  }

  const treeArb = fc
    .array(
      fc.record({
        parentPick: fc.nat(),
        root: fc.boolean(),
        kind: fc.constantFrom<'gen' | 'async'>('gen', 'async'),
        steps: fc.option(fc.integer({ min: 0, max: 8 }), { nil: undefined }),
        fails: fc.boolean(),
      }),
      { minLength: 1, maxLength: 14 },
    )
    .map((raw) =>
      raw.map((r, i): Node => ({
        parent: i === 0 || r.root ? -1 : r.parentPick % i,
        kind: r.kind,
        steps: r.steps,
        fails: r.fails,
      })),
    );

  it('every descendant of a cancelled task ends cancelled with its reason; no other task is affected', async () => {
    await fc.assert(
      fc.asyncProperty(
        treeArb,
        fc.array(fc.record({ turn: fc.integer({ min: 0, max: 6 }), node: fc.nat() }), { maxLength: 6 }),
        fc.integer({ min: 1, max: 6 }),
        async (nodes, cancels, sliceYields) => {
          const s = new Scheduler({ sliceYields, sliceMs: 10_000, agingMs: Infinity });
          const n = nodes.length;
          const childrenOf = nodes.map((_, i) => nodes.flatMap((node, c) => (node.parent === i ? [c] : [])));
          const tasks: (Task<number> | undefined)[] = nodes.map(() => undefined);
          const started = nodes.map(() => false);
          const finals = nodes.map(() => 0);
          const errors = nodes.map((_, i) => new Error(`task ${i} failed`));
          const expectedReason = new Map<number, unknown>();

          const fnFor = (i: number): TaskFn<number> => {
            const node = nodes[i]!;
            const end = (): number => {
              if (node.fails) throw errors[i]!;
              return i;
            };
            if (node.kind === 'gen') {
              return function* (ctx) {
                started[i] = true;
                for (const c of childrenOf[i]!) tasks[c] = ctx.spawn(fnFor(c));
                try {
                  for (let k = 0; node.steps === undefined || k < node.steps; k++) yield;
                  return end();
                } finally {
                  finals[i]!++;
                }
              };
            }
            return async (ctx) => {
              started[i] = true;
              for (const c of childrenOf[i]!) tasks[c] = ctx.spawn(fnFor(c));
              try {
                for (let k = 0; node.steps === undefined || k < node.steps; k++) await ctx.yield();
                return end();
              } finally {
                finals[i]!++;
              }
            };
          };

          nodes.forEach((node, i) => {
            if (node.parent === -1) tasks[i] = s.spawn(fnFor(i));
          });

          for (let turn = 0; turn <= 6; turn++) {
            for (const { turn: at, node: pick } of cancels) {
              if (at !== turn) continue;
              const target = pick % n;
              const task = tasks[target];
              if (task === undefined) continue; // not spawned (yet, or ever)
              // The tasks this cancel must reach: the target if unsettled, then the unsettled children of each.
              const reached = new Set<number>();
              const visit = (i: number): void => {
                const t = tasks[i];
                if (
                  t === undefined ||
                  t.status === 'done' ||
                  t.status === 'failed' ||
                  t.status === 'cancelled'
                ) {
                  return;
                }
                reached.add(i);
                for (const c of childrenOf[i]!) visit(c);
              };
              visit(target);
              const before = tasks.map((t) => t?.status);
              const reason = new Error(`cancel ${target} at ${turn}`);
              task.cancel(reason);
              tasks.forEach((t, i) => {
                if (reached.has(i)) {
                  expect(t!.status).toBe('cancelled');
                  expect(t!.signal.reason).toBe(reason);
                  expectedReason.set(i, reason);
                } else {
                  expect(t?.status).toBe(before[i]);
                }
              });
            }
            await macrotask();
          }

          await s[Symbol.asyncDispose]();
          await flush(); // async tasks unwind through their finally blocks after they settle
          const results = await Promise.all(
            tasks.map((t) => (t === undefined ? Promise.resolve(undefined) : outcome(t))),
          );
          tasks.forEach((task, i) => {
            if (task === undefined) {
              // Never spawned: an ancestor was cancelled before it started.
              expect(finals[i]).toBe(0);
              return;
            }
            const result = results[i]!;
            const reason = expectedReason.get(i);
            if (reason !== undefined) {
              expect(task.status).toBe('cancelled');
              expect(result).toEqual({ ok: false, value: reason });
            } else if (task.status === 'cancelled') {
              expect((result.value as DOMException).message).toBe('The scheduler was disposed');
            } else if (nodes[i]!.fails) {
              expect(task.status).toBe('failed');
              expect(result.value).toBe(errors[i]);
            } else {
              expect(result).toEqual({ ok: true, value: i });
            }
            // Its cleanup ran exactly once if it started, never otherwise.
            expect(finals[i]).toBe(started[i] ? 1 : 0);
          });
          const spawned = tasks.filter((t) => t !== undefined).length;
          const stats = s.stats;
          expect(stats.spawned).toBe(spawned);
          expect(stats.completed + stats.failed + stats.cancelled).toBe(spawned);
          expect(stats.active).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
