// Scenarios run inside Chromium against the built package (dist/). Each returns plain data the Node-side test asserts.
// Modules are imported lazily so that one module failing to load is reported by its own scenario.

const scenarios = {
  async semaphore() {
    const { Semaphore, Mutex, limit } = await import('weft/sync');
    const sem = new Semaphore(3);
    let active = 0;
    let peak = 0;
    const order = [];
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        sem.run(async () => {
          active++;
          peak = Math.max(peak, active);
          order.push(i);
          await new Promise((resolve) => setTimeout(resolve, 1));
          active--;
        }),
      ),
    );
    const controller = new AbortController();
    const held = await sem.acquire(3);
    const waiting = sem.acquire(1, { signal: controller.signal });
    controller.abort();
    const aborted = await waiting.then(
      () => 'fulfilled',
      (error) => error.name,
    );
    const pendingAfterAbort = sem.pending;
    held.release();
    const mutex = new Mutex();
    const log = [];
    await Promise.all([1, 2, 3].map((n) => mutex.run(async () => log.push(n))));
    const lim = limit(2);
    const mapped = await lim.map([1, 2, 3, 4], async (x) => x * 2);
    return { peak, ordered: order.every((v, i) => v === i), aborted, pendingAfterAbort, available: sem.available, log, mapped };
  },

  async channel() {
    const { Channel, recv, select } = await import('weft/channel');
    const ch = new Channel(0);
    const received = [];
    const consumer = (async () => {
      for await (const value of ch) received.push(value);
    })();
    for (let i = 0; i < 100; i++) await ch.send(i);
    ch.close();
    await consumer;
    const a = new Channel(1);
    const b = new Channel(1);
    await b.send('from b');
    const selected = await select([recv(a), recv(b)]);
    const none = await select([recv(a)], { default: true });
    return { count: received.length, inOrder: received.every((v, i) => v === i), selected, none, aSize: a.size };
  },

  async scheduler() {
    const { Scheduler } = await import('weft/scheduler');
    const scheduler = new Scheduler({ sliceMs: 5 });
    let frames = 0;
    let running = true;
    const onFrame = () => {
      frames++;
      if (running) requestAnimationFrame(onFrame);
    };
    requestAnimationFrame(onFrame);
    const start = performance.now();
    const result = await scheduler.spawn(function* () {
      let sum = 0;
      while (performance.now() - start < 600) {
        for (let i = 0; i < 2000; i++) sum = (sum + Math.sqrt(i)) % 1e9;
        yield;
      }
      return sum > 0;
    });
    running = false;
    // Blocking the same 600 ms on the main thread lets no frame through at all.
    let blockedFrames = 0;
    let counting = true;
    const countBlocked = () => {
      blockedFrames++;
      if (counting) requestAnimationFrame(countBlocked);
    };
    requestAnimationFrame(countBlocked);
    await new Promise((resolve) => requestAnimationFrame(resolve));
    const before = blockedFrames;
    const blockStart = performance.now();
    while (performance.now() - blockStart < 600) Math.sqrt(Math.random());
    const framesDuringBlock = blockedFrames - before;
    counting = false;
    return { result, frames, framesDuringBlock, elapsed: performance.now() - start };
  },
};

window.weftScenarios = scenarios;
document.getElementById('status').textContent = 'ready';
