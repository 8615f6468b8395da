/**
 * Model-free property tests: random schedules of senders, receivers, selects, iterator steps, aborts, timeouts and
 * a close, over random capacities and overflow policies. Whatever the schedule, every value is received exactly once
 * or dropped by the overflow policy (and then reported to onDrop) or its send rejected; values from one sender arrive
 * in the order it sent them; and once everything has settled no waiter is left in any queue.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Channel, recv, select, send, type OverflowPolicy } from '../../src/channel/index.js';
import { flush } from '../helpers.js';

const realSetImmediate = globalThis.setImmediate;
/** One real macrotask turn: lets results deferred by the anti-starvation mechanism settle, even under fake timers. */
const macrotask = (): Promise<void> => new Promise((resolve) => realSetImmediate(() => resolve()));

type Cancel = 'none' | 'abort' | 'timeout';

type Op =
  | { kind: 'send'; sender: number; cancel: Cancel; timeout: number }
  | { kind: 'trySend'; sender: number }
  | { kind: 'selectSend'; sender: number; cancel: Cancel; timeout: number }
  | { kind: 'receive'; cancel: Cancel; timeout: number }
  | { kind: 'tryReceive' }
  | { kind: 'selectRecv'; cancel: Cancel; timeout: number; nonBlocking: boolean }
  | { kind: 'iteratorStep' }
  | { kind: 'abort'; pick: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'flush' }
  | { kind: 'close' };

const cancelArb = fc.constantFrom<Cancel>('none', 'none', 'abort', 'timeout');
const timeoutArb = fc.integer({ min: 0, max: 20 });
const senderArb = fc.integer({ min: 0, max: 2 });

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('send' as const),
      sender: senderArb,
      cancel: cancelArb,
      timeout: timeoutArb,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('trySend' as const), sender: senderArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('selectSend' as const),
      sender: senderArb,
      cancel: cancelArb,
      timeout: timeoutArb,
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({ kind: fc.constant('receive' as const), cancel: cancelArb, timeout: timeoutArb }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tryReceive' as const) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('selectRecv' as const),
      cancel: cancelArb,
      timeout: timeoutArb,
      nonBlocking: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('iteratorStep' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 15 }) }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('flush' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('close' as const) }) },
);

const configArb = fc
  .record({
    capacity: fc.constantFrom(0, 1, 2, 3, 5, Infinity),
    overflow: fc.constantFrom<OverflowPolicy>('wait', 'drop-oldest', 'drop-newest'),
  })
  .map(({ capacity, overflow }) => ({ capacity, overflow: capacity === 0 ? ('wait' as const) : overflow }));

type SendState = 'pending' | 'accepted' | 'rejected';

async function runSchedule(config: { capacity: number; overflow: OverflowPolicy }, ops: Op[]): Promise<void> {
  const dropped: number[] = [];
  const ch = new Channel<number>(config.capacity, {
    overflow: config.overflow,
    onDrop: (v) => dropped.push(v),
  });
  const other = new Channel<number>(); // never ready: the second case of every select
  const iterator = ch.values();
  const sends = new Map<number, SendState>();
  const received: { call: number; value: number }[] = [];
  const nextSeq = [0, 0, 0];
  const controllers: AbortController[] = [];
  const unsettled = new Set<Promise<unknown>>();
  let calls = 0;

  const track = (promise: Promise<unknown>): void => {
    unsettled.add(promise);
    void promise.then(
      () => unsettled.delete(promise),
      () => unsettled.delete(promise),
    );
  };
  const waitOptions = (cancel: Cancel, timeout: number): { signal?: AbortSignal; timeout?: number } => {
    if (cancel === 'timeout') return { timeout };
    if (cancel === 'abort') {
      const controller = new AbortController();
      controllers.push(controller);
      return { signal: controller.signal };
    }
    return {};
  };
  const newValue = (sender: number): number => {
    const value = sender * 1_000_000 + nextSeq[sender]!++;
    sends.set(value, 'pending');
    return value;
  };
  const onSendSettled = (value: number, promise: Promise<unknown>): void => {
    track(promise);
    promise.then(
      () => sends.set(value, 'accepted'),
      () => sends.set(value, 'rejected'),
    );
  };
  const onReceived = (call: number, value: number): void => {
    received.push({ call, value });
  };

  for (const op of ops) {
    const call = calls++;
    switch (op.kind) {
      case 'send': {
        const value = newValue(op.sender);
        onSendSettled(value, ch.send(value, waitOptions(op.cancel, op.timeout)));
        break;
      }
      case 'trySend': {
        const value = newValue(op.sender);
        sends.set(value, ch.trySend(value) ? 'accepted' : 'rejected');
        break;
      }
      case 'selectSend': {
        const value = newValue(op.sender);
        onSendSettled(value, select([recv(other), send(ch, value)], waitOptions(op.cancel, op.timeout)));
        break;
      }
      case 'receive': {
        const promise = ch.receive(waitOptions(op.cancel, op.timeout));
        track(promise);
        promise.then(
          (value) => onReceived(call, value),
          () => {},
        );
        break;
      }
      case 'tryReceive': {
        const result = ch.tryReceive();
        if (result.ok) onReceived(call, result.value);
        break;
      }
      case 'selectRecv': {
        const options = { ...waitOptions(op.cancel, op.timeout), default: op.nonBlocking };
        const promise = select([recv(other), recv(ch)], options);
        track(promise);
        promise.then(
          (result) => {
            if (result.index === 1 && result.ok) onReceived(call, result.value);
          },
          () => {},
        );
        break;
      }
      case 'iteratorStep': {
        const promise = iterator.next();
        track(promise);
        promise.then(
          (result) => {
            if (result.done !== true) onReceived(call, result.value);
          },
          () => {},
        );
        break;
      }
      case 'abort': {
        const live = controllers.filter((c) => !c.signal.aborted);
        if (live.length > 0) live[op.pick % live.length]!.abort();
        break;
      }
      case 'advance':
        await vi.advanceTimersByTimeAsync(op.ms);
        break;
      case 'flush':
        await flush(10);
        break;
      case 'close':
        ch.close();
        break;
    }
    expect(ch.size).toBeLessThanOrEqual(config.capacity);
  }

  // Settle everything: close, drain what is buffered, let results (also deferred ones) arrive.
  ch.close();
  for (let r = ch.tryReceive(); r.ok; r = ch.tryReceive()) onReceived(calls++, r.value);
  for (let i = 0; i < 5 && unsettled.size > 0; i++) {
    await flush();
    await macrotask();
    await vi.advanceTimersByTimeAsync(50);
  }
  await flush();

  expect(unsettled.size).toBe(0);
  expect([ch.pendingSenders, ch.pendingReceivers, other.pendingReceivers, ch.size]).toEqual([0, 0, 0, 0]);

  // Exactly once: no duplicates, nothing invented, nothing lost.
  const receivedValues = received.map((r) => r.value);
  expect(new Set(receivedValues).size).toBe(receivedValues.length);
  expect(new Set(dropped).size).toBe(dropped.length);
  const receivedSet = new Set(receivedValues);
  const droppedSet = new Set(dropped);
  for (const [value, state] of sends) {
    expect(state).not.toBe('pending');
    const outcome = receivedSet.has(value) ? 'received' : droppedSet.has(value) ? 'dropped' : 'none';
    if (state === 'accepted') expect(outcome, `value ${value}`).not.toBe('none');
    else expect(outcome, `value ${value}`).toBe('none');
    if (outcome === 'received') expect(droppedSet.has(value)).toBe(false);
  }
  if (config.overflow === 'wait') expect(dropped).toEqual([]);

  // Per-sender FIFO: ordered by when the receiving call was made, each sender's values increase.
  const bySender = new Map<number, number>();
  for (const { value } of [...received].sort((a, b) => a.call - b.call)) {
    const sender = Math.floor(value / 1_000_000);
    const last = bySender.get(sender) ?? -1;
    expect(value, `sender ${sender} out of order`).toBeGreaterThan(last);
    bySender.set(sender, value);
  }
}

describe('channel properties', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it(
    'every value is received once, dropped, or its send rejected; per-sender FIFO; no waiter left',
    { timeout: 60_000 },
    async () => {
      await fc.assert(
        fc.asyncProperty(configArb, fc.array(opArb, { minLength: 1, maxLength: 40 }), runSchedule),
        { numRuns: 400 },
      );
    },
  );

  it(
    'producers and consumers in loops deliver every value exactly once, in order per producer',
    { timeout: 60_000 },
    async () => {
      vi.useRealTimers();
      await fc.assert(
        fc.asyncProperty(
          configArb,
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 1, max: 3 }),
          fc.integer({ min: 0, max: 300 }),
          async (config, producers, consumers, perProducer) => {
            const dropped: number[] = [];
            const ch = new Channel<number>(config.capacity, {
              overflow: config.overflow,
              onDrop: (v) => dropped.push(v),
            });
            const got: number[][] = Array.from({ length: consumers }, () => []);
            const consuming = got.map(async (into, k) => {
              if (k % 2 === 0) {
                for await (const value of ch) into.push(value);
              } else {
                for (;;) {
                  const result = await select([recv(ch)]);
                  if (!result.ok) break;
                  into.push(result.value);
                }
              }
            });
            await Promise.all(
              Array.from({ length: producers }, async (_, p) => {
                for (let i = 0; i < perProducer; i++) await ch.send(p * 1_000_000 + i);
              }),
            );
            ch.close();
            await Promise.all(consuming);
            const all = [...got.flat(), ...dropped].sort((a, b) => a - b);
            const expected = Array.from({ length: producers }, (_, p) =>
              Array.from({ length: perProducer }, (_, i) => p * 1_000_000 + i),
            ).flat();
            expect(all).toEqual(expected);
            for (const into of got) {
              for (let i = 1; i < into.length; i++) {
                const [a, b] = [into[i - 1]!, into[i]!];
                if (Math.floor(a / 1_000_000) === Math.floor(b / 1_000_000)) expect(b).toBeGreaterThan(a);
              }
            }
            if (config.overflow === 'wait') expect(dropped).toEqual([]);
            expect(ch.pendingReceivers + ch.pendingSenders).toBe(0);
          },
        ),
        { numRuns: 150 },
      );
    },
  );
});
