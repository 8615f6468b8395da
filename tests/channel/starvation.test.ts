/**
 * The anti-starvation mechanism: a producer and a consumer that await each other in tight loops keep handing values
 * over on the microtask queue; without it, timers and I/O would never run again. These use real timers: each loop
 * runs until a timer callback has fired, bounded by a count it must never reach.
 */
import { describe, expect, it } from 'vitest';
import { Channel, ChannelClosedError, recv, select } from '../../src/channel/index.js';

/** Far more hand-offs than run in several seconds; reaching it means the timer never got a turn. */
const LIMIT = 20_000_000;

async function hotPair(capacity: number, stop: () => boolean, consume: 'receive' | 'iterate' | 'select') {
  const ch = new Channel<number>(capacity);
  let sent = 0;
  const producer = (async () => {
    while (!stop() && sent < LIMIT) await ch.send(sent++);
    ch.close();
  })();
  let received = 0;
  let inOrder = true;
  const take = (value: number): void => {
    if (value !== received) inOrder = false;
    received++;
  };
  if (consume === 'iterate') {
    for await (const value of ch) take(value);
  } else if (consume === 'select') {
    for (;;) {
      const result = await select([recv(ch)]);
      if (!result.ok) break;
      take(result.value);
    }
  } else {
    for (;;) {
      try {
        take(await ch.receive());
      } catch (error) {
        if (error instanceof ChannelClosedError) break;
        throw error;
      }
    }
  }
  await producer;
  return { sent, received, inOrder };
}

describe('anti-starvation', () => {
  it.each([
    [0, 'receive'],
    [1, 'receive'],
    [1024, 'receive'],
    [Infinity, 'receive'],
    [0, 'iterate'],
    [1024, 'iterate'],
    [0, 'select'],
    [64, 'select'],
  ] as const)(
    'a timer fires while a producer and a consumer run hot (capacity %s, %s)',
    { timeout: 30_000 },
    async (capacity, consume) => {
      let fired = false;
      setTimeout(() => (fired = true), 1);
      const { sent, received, inOrder } = await hotPair(capacity, () => fired, consume);
      expect(fired).toBe(true);
      expect(sent).toBeLessThan(LIMIT);
      expect(received).toBe(sent);
      expect(inOrder).toBe(true);
    },
  );

  it('an interval keeps ticking while the pair runs hot', { timeout: 30_000 }, async () => {
    let ticks = 0;
    const interval = setInterval(() => ticks++, 1);
    try {
      const { sent, received, inOrder } = await hotPair(0, () => ticks >= 5, 'receive');
      expect(ticks).toBeGreaterThanOrEqual(5);
      expect(sent).toBeLessThan(LIMIT);
      expect([received, inOrder]).toEqual([sent, true]);
    } finally {
      clearInterval(interval);
    }
  });

  it(
    'a ping-pong over two unbuffered channels lets I/O-style callbacks (setImmediate) run',
    { timeout: 30_000 },
    async () => {
      const ping = new Channel<number>();
      const pong = new Channel<number>();
      let ran = false;
      setImmediate(() => (ran = true));
      let rounds = 0;
      const echo = (async () => {
        for await (const n of ping) await pong.send(n + 1);
        pong.close();
      })();
      let n = 0;
      while (!ran && rounds < LIMIT) {
        await ping.send(n);
        n = await pong.receive();
        rounds++;
      }
      ping.close();
      await echo;
      expect(ran).toBe(true);
      expect(rounds).toBeLessThan(LIMIT);
      expect(n).toBe(rounds);
    },
  );

  it('does not defer anything when the program is not hot', async () => {
    const ch = new Channel<number>(1);
    for (let i = 0; i < 20; i++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      let settled = false;
      void ch.send(i).then(() => (settled = true));
      await Promise.resolve();
      await Promise.resolve();
      expect(settled).toBe(true);
      expect(ch.tryReceive()).toEqual({ ok: true, value: i });
    }
  });
});
