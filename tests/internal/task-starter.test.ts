/**
 * The rule of internal/task-starter.ts, held by every primitive that starts tasks through it: admitted tasks start
 * in microtask order (never inside the call that queued them nor inside another task's release, in admission order,
 * in the caller's async context), within the capacity, and each settles once with its own function's outcome.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Mutex, Semaphore, limit } from '../../src/sync/index.js';
import { flush } from '../helpers.js';

/** Queues `fn` holding `weight` units; `abort` cancels the wait (where the primitive can). */
type Submit = (fn: () => unknown, weight: number, signal: AbortSignal | undefined) => Promise<unknown>;

interface Subject {
  readonly name: string;
  readonly weighted: boolean;
  readonly abortable: boolean;
  make(capacity: number): { submit: Submit; setCapacity?: (capacity: number) => void };
}

const subjects: Subject[] = [
  {
    name: 'limit',
    weighted: false,
    abortable: false,
    make(capacity) {
      const lim = limit(capacity);
      return {
        submit: (fn) => lim(fn),
        setCapacity: (c) => {
          lim.concurrency = c;
        },
      };
    },
  },
  {
    name: 'Semaphore.run',
    weighted: true,
    abortable: true,
    make(capacity) {
      const sem = new Semaphore(capacity);
      return {
        submit: (fn, weight, signal) =>
          signal === undefined && weight === 1 ? sem.run(fn) : sem.run(fn, { weight, signal }),
      };
    },
  },
  {
    name: 'Mutex.run',
    weighted: false,
    abortable: true,
    make() {
      const mutex = new Mutex();
      return {
        submit: (fn, _weight, signal) => mutex.run(fn, signal === undefined ? undefined : { signal }),
      };
    },
  },
];

type Outcome = 'return' | 'throw' | 'resolve' | 'reject';

type Step =
  | { kind: 'call'; weight: number; outcome: Outcome; ticks: number; abortable: boolean }
  | { kind: 'abort'; pick: number }
  | { kind: 'capacity'; value: number }
  | { kind: 'flush'; ticks: number };

const step = (capacity: number): fc.Arbitrary<Step> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('call' as const),
        weight: fc.integer({ min: 1, max: capacity }),
        outcome: fc.constantFrom<Outcome>('return', 'throw', 'resolve', 'reject'),
        ticks: fc.integer({ min: 0, max: 4 }),
        abortable: fc.boolean(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('capacity' as const), value: fc.integer({ min: 1, max: 4 }) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant('flush' as const), ticks: fc.integer({ min: 0, max: 6 }) }),
    },
  );

const callerId = new AsyncLocalStorage<number>();

describe.each(subjects)('$name: admitted tasks start in microtask order', (subject) => {
  it('start asynchronously, in queue order, in the caller context, within capacity; settle once with their own outcome', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 4 })
          .chain((capacity) => fc.tuple(fc.constant(capacity), fc.array(step(capacity), { maxLength: 40 }))),
        async ([initialCapacity, steps]) => {
          const { submit, setCapacity } = subject.make(initialCapacity);
          let capacity = subject.name === 'Mutex.run' ? 1 : initialCapacity;
          let maxCapacity = capacity;
          /** Depth of synchronous code that must not start a task: a `submit` call, or a task's own body. */
          let forbidden = 0;
          let inUse = 0;
          const queued: number[] = [];
          const started: number[] = [];
          const controllers: AbortController[] = [];
          const signals = new Map<number, AbortSignal>();
          const settlements = new Map<number, unknown[]>();
          const expected = new Map<number, unknown>();

          for (const s of steps) {
            if (s.kind === 'flush') await flush(s.ticks);
            else if (s.kind === 'capacity') {
              if (setCapacity === undefined) continue;
              setCapacity(s.value);
              capacity = s.value;
              maxCapacity = Math.max(maxCapacity, capacity);
            } else if (s.kind === 'abort') {
              const controller = controllers[s.pick % Math.max(1, controllers.length)];
              controller?.abort();
            } else {
              const id = queued.length;
              const weight = subject.weighted ? s.weight : 1;
              const controller = subject.abortable && s.abortable ? new AbortController() : undefined;
              if (controller !== undefined) {
                controllers.push(controller);
                signals.set(id, controller.signal);
              }
              const fn = (): unknown => {
                expect(forbidden, `task ${id} started synchronously`).toBe(0);
                expect(callerId.getStore()).toBe(id);
                started.push(id);
                inUse += weight;
                expect(inUse).toBeLessThanOrEqual(maxCapacity);
                forbidden++;
                try {
                  const value = `value ${id}`;
                  const error = new Error(`error ${id}`);
                  expected.set(id, s.outcome === 'throw' || s.outcome === 'reject' ? error : value);
                  if (s.outcome === 'return') {
                    inUse -= weight;
                    return value;
                  }
                  if (s.outcome === 'throw') {
                    inUse -= weight;
                    throw error;
                  }
                  return (async () => {
                    await flush(s.ticks);
                    inUse -= weight;
                    if (s.outcome === 'reject') throw error;
                    return value;
                  })();
                } finally {
                  forbidden--;
                }
              };
              queued.push(id);
              forbidden++;
              try {
                callerId
                  .run(id, () => submit(fn, weight, controller?.signal))
                  .then(
                    (value) => settlements.set(id, [...(settlements.get(id) ?? []), value]),
                    (error: unknown) => settlements.set(id, [...(settlements.get(id) ?? []), error]),
                  );
              } finally {
                forbidden--;
              }
            }
          }
          await flush(400);

          // Only calls aborted while they waited never started; the others started once each, in the order the calls
          // were made (every subject admits in strict FIFO order, so admission order is call order).
          const cancelled = new Set(queued.filter((id) => !started.includes(id)));
          expect(started).toEqual(queued.filter((id) => !cancelled.has(id)));
          for (const id of queued) {
            const outcomes = settlements.get(id) ?? [];
            expect(outcomes).toHaveLength(1);
            if (cancelled.has(id)) {
              expect(signals.get(id)?.aborted).toBe(true);
              expect(outcomes[0]).toBe(signals.get(id)!.reason);
            } else expect(outcomes[0]).toBe(expected.get(id));
          }
          expect(inUse).toBe(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});
