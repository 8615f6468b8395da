import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Event } from '../../src/sync/index.js';
import { expectPending, flush, rejectionOf, stateOf } from '../helpers.js';

describe('Event', () => {
  it('set wakes every waiter in arrival order, and later waits pass at once', async () => {
    const event = new Event();
    const log: number[] = [];
    const waits = [0, 1, 2].map((i) => event.wait().then(() => log.push(i)));
    expect(event.pending).toBe(3);
    await expectPending(waits[0]!);
    event.set();
    expect(event.isSet).toBe(true);
    expect(event.pending).toBe(0);
    await Promise.all(waits);
    expect(log).toEqual([0, 1, 2]);
    expect(await stateOf(event.wait())).toBe('fulfilled');
    event.set(); // idempotent
    expect(event.isSet).toBe(true);
  });

  it('clear makes later waits block until the next set', async () => {
    const event = new Event();
    event.set();
    event.clear();
    expect(event.isSet).toBe(false);
    const wait = event.wait();
    await expectPending(wait);
    event.set();
    expect(await stateOf(wait)).toBe('fulfilled');
  });

  it('a waiter woken by set stays woken even if clear follows at once', async () => {
    const event = new Event();
    const wait = event.wait();
    event.set();
    event.clear();
    expect(await stateOf(wait)).toBe('fulfilled');
  });

  it('an aborted signal rejects at once even when set; abort removes the waiter', async () => {
    const event = new Event();
    const controller = new AbortController();
    const wait = event.wait({ signal: controller.signal });
    controller.abort();
    expect(event.pending).toBe(0);
    expect(((await rejectionOf(wait)) as DOMException).name).toBe('AbortError');
    event.set();
    const reason = new Error('pre');
    expect(await rejectionOf(event.wait({ signal: AbortSignal.abort(reason) }))).toBe(reason);
  });

  it('rejects bad options with a message naming Event.wait', async () => {
    const event = new Event();
    expect(await rejectionOf(event.wait({ timeout: 'soon' as unknown as number }))).toEqual(
      new TypeError('Event.wait: timeout must be a non-negative number of milliseconds, got "soon"'),
    );
  });
});

describe('Event: timeouts (fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('times out with a TimeoutError and leaves no waiter', async () => {
    const event = new Event();
    const outcome = rejectionOf(event.wait({ timeout: 50 }));
    await vi.advanceTimersByTimeAsync(50);
    const error = (await outcome) as DOMException;
    expect(error.name).toBe('TimeoutError');
    expect(error.message).toBe('Event.wait timed out after 50 ms');
    expect(event.pending).toBe(0);
  });

  it('timeout 0 passes only when set now', async () => {
    const event = new Event();
    expect(((await rejectionOf(event.wait({ timeout: 0 }))) as DOMException).name).toBe('TimeoutError');
    event.set();
    await flush();
    expect(await stateOf(event.wait({ timeout: 0 }))).toBe('fulfilled');
  });
});
