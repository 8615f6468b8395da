// Unit tests of the pool's internal pieces (imported from src: they are not part of the package's API).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PoolTask } from '../../src/pool/pool-task.js';
import {
  MODE_RUN,
  MODE_STREAM,
  MSG_RESULTS,
  MSG_TASKS,
  STATUS_ERROR,
  STATUS_OK,
  STATUS_YIELD,
  addResult,
  addTask,
  deserializeError,
  entryAlone,
  entryCount,
  entrySlot,
  markTaskSlots,
  newBatch,
  resultMessage,
  resultRunMs,
  resultStatus,
  resultValue,
  serializeError,
  SLOT_COUNT,
  SLOT_FREE,
  SLOT_QUEUED,
  SLOT_RUNNING,
  taskArgs,
  taskFunction,
  taskMode,
} from '../../src/pool/protocol.js';
import { Histogram } from '../../src/pool/stats.js';
import { TaskQueue } from '../../src/pool/task-queue.js';
import { PoolWorker } from '../../src/pool/worker.js';

describe('Histogram', () => {
  it('reports percentiles within 2 % of the exact ones (above 0.1 ms) and the exact mean', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0.1, max: 60_000, noNaN: true }), { minLength: 1, maxLength: 300 }),
        (values) => {
          const histogram = new Histogram();
          for (const v of values) histogram.record(v);
          const sorted = [...values].sort((a, b) => a - b);
          for (const q of [0.5, 0.99]) {
            const exact = sorted[Math.max(1, Math.ceil(q * sorted.length)) - 1]!;
            expect(Math.abs(histogram.quantile(q) - exact)).toBeLessThanOrEqual(exact * 0.02 + 0.001);
          }
          const mean = values.reduce((a, b) => a + b, 0) / values.length;
          expect(histogram.summary().mean).toBeCloseTo(mean, 6);
        },
      ),
    );
  });

  it('is all zeros when empty and clamps negative and huge values', () => {
    const histogram = new Histogram();
    expect(histogram.summary()).toEqual({ p50: 0, p99: 0, mean: 0 });
    histogram.record(-5);
    histogram.record(1e12);
    expect(histogram.quantile(0)).toBe(0);
    expect(histogram.quantile(1)).toBeGreaterThan(2_000_000);
  });
});

describe('PoolWorker slot table', () => {
  const task = (): PoolTask => ({}) as PoolTask;

  it('reuses a revoked slot only after the worker skipped it', () => {
    const worker = new PoolWorker(1);
    const tasks = Array.from({ length: SLOT_COUNT }, task);
    const slots = tasks.map((t) => worker.assign(t));
    expect(new Set(slots).size).toBe(SLOT_COUNT);
    expect(worker.freeSlots()).toBe(0);
    expect(worker.revoke(tasks[3]!)).toBe(true);
    expect(worker.freeSlots()).toBe(0); // the worker has not passed it yet
    Atomics.store(worker.slots, slots[3]!, SLOT_FREE); // the worker skips it
    expect(worker.freeSlots()).toBe(1);
    Atomics.store(worker.slots, slots[5]!, SLOT_RUNNING); // the worker started this one
    expect(worker.revoke(tasks[5]!)).toBe(false);
    expect(worker.inflight.length).toBe(SLOT_COUNT - 1);
    worker.release(tasks[5]!);
    expect(worker.freeSlots()).toBe(2);
  });
});

describe('error serialization', () => {
  it('round-trips class, message, stack, cause and own properties', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(Error, TypeError, RangeError, SyntaxError),
        fc.string(),
        fc.dictionary(
          fc.string().filter((k) => !['cause', 'stack', 'message', 'name', '__proto__'].includes(k)),
          fc.jsonValue(),
        ),
        (Kind, message, props) => {
          const error = Object.assign(new Kind(message, { cause: new Error('inner') }), props);
          const copy = deserializeError(structuredClone(serializeError(error))) as Error;
          expect(copy).toBeInstanceOf(Kind);
          expect(copy.message).toBe(message);
          expect(copy.stack).toBe(error.stack);
          expect((copy.cause as Error).message).toBe('inner');
          for (const [key, value] of Object.entries(props))
            expect((copy as unknown as Record<string, unknown>)[key]).toEqual(value);
        },
      ),
    );
  });

  it('keeps DOMException names, custom names, and passes non-errors through', () => {
    const timeout = deserializeError(
      structuredClone(serializeError(new DOMException('late', 'TimeoutError'))),
    ) as DOMException;
    expect(timeout).toBeInstanceOf(DOMException);
    expect(timeout.name).toBe('TimeoutError');
    class CustomError extends Error {
      override name = 'CustomError';
    }
    const custom = deserializeError(structuredClone(serializeError(new CustomError('x')))) as Error;
    expect(custom.name).toBe('CustomError');
    expect(custom).toBeInstanceOf(Error);
    expect(deserializeError(serializeError('text'))).toBe('text');
    expect(deserializeError(serializeError(null))).toBe(null);
  });
});

describe('batches', () => {
  const taskEntry = fc.record({
    slot: fc.nat(SLOT_COUNT - 1),
    fnIndex: fc.nat(50),
    mode: fc.constantFrom(MODE_RUN, MODE_STREAM),
    args: fc.array(fc.jsonValue(), { maxLength: 3 }),
  });
  const resultEntry = fc.record({
    slot: fc.nat(SLOT_COUNT - 1),
    status: fc.constantFrom(STATUS_OK, STATUS_ERROR, STATUS_YIELD),
    value: fc.jsonValue(),
    runMs: fc.double({ min: 0, max: 1e6, noNaN: true }),
  });

  it('read back every task entry after a structured clone, alone or in the batch', () => {
    fc.assert(
      fc.property(fc.array(taskEntry, { maxLength: 20 }), (entries) => {
        const batch = newBatch(MSG_TASKS);
        for (const e of entries) addTask(batch, e.slot, e.fnIndex, e.mode, e.args);
        const copy = structuredClone(batch);
        expect(copy[0]).toBe(MSG_TASKS);
        expect(entryCount(copy)).toBe(entries.length);
        entries.forEach((e, i) => {
          for (const [b, n] of [
            [copy, i],
            [entryAlone(copy, i), 0],
          ] as const) {
            expect(entrySlot(b, n)).toBe(e.slot);
            expect(taskFunction(b, n)).toBe(e.fnIndex);
            expect(taskMode(b, n)).toBe(e.mode);
            expect(taskArgs(b, n)).toEqual(e.args);
          }
          expect(entryCount(entryAlone(copy, i))).toBe(1);
        });
      }),
    );
  });

  it('read back every result entry, and a one-result message', () => {
    fc.assert(
      fc.property(fc.array(resultEntry, { maxLength: 20 }), (entries) => {
        const batch = newBatch(MSG_RESULTS);
        for (const e of entries) addResult(batch, e.slot, e.status, e.value, e.runMs);
        expect(entryCount(batch)).toBe(entries.length);
        entries.forEach((e, i) => {
          const alone = resultMessage(e.slot, e.status, e.value, e.runMs);
          expect(entryAlone(batch, i)).toEqual(alone);
          expect(entrySlot(alone, 0)).toBe(e.slot);
          expect(resultStatus(batch, i)).toBe(e.status);
          expect(resultValue(batch, i)).toEqual(e.value);
          expect(resultRunMs(batch, i)).toBe(e.runMs);
        });
      }),
    );
  });

  it('mark the slots of a task batch in a local table, and ignore other messages', () => {
    const slots = new Int32Array(SLOT_COUNT);
    const batch = newBatch(MSG_TASKS);
    addTask(batch, 7, 0, MODE_RUN, []);
    addTask(batch, 200, 1, MODE_STREAM, [1]);
    markTaskSlots(batch, slots, SLOT_QUEUED);
    markTaskSlots(resultMessage(9, STATUS_OK, 1, 0), slots, SLOT_RUNNING);
    expect([...slots.keys()].filter((slot) => slots[slot] !== SLOT_FREE)).toEqual([7, 200]);
    expect(slots[7]).toBe(SLOT_QUEUED);
  });
});

describe('TaskQueue', () => {
  const task = (name: string): PoolTask =>
    Object.assign(Object.create(null) as PoolTask, { name, queueIndex: -1, state: 'sent' });

  it('gives tasks taken back from a worker before new ones, each in FIFO order, and removes any', () => {
    const queue = new TaskQueue();
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map(task);
    queue.push(a!);
    queue.push(b!);
    queue.pushReturned(c!);
    queue.push(d!);
    queue.pushReturned(e!);
    expect(e!.state).toBe('waiting');
    expect(queue.length).toBe(5);
    queue.remove(b!);
    queue.remove(e!);
    const order: string[] = [];
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) order.push(t.name);
    expect(order).toEqual(['c', 'a', 'd']);
    expect(queue.length).toBe(0);
  });
});
