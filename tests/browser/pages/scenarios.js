// Scenarios run inside Chromium against the built package (dist/). Each returns plain data the Node-side test asserts.
// Modules are imported lazily so that one module failing to load is reported by its own scenario.

const scenarios = {
  async semaphore() {
    const { Semaphore, Mutex, limit } = await import('weftjs/sync');
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
    return {
      peak,
      ordered: order.every((v, i) => v === i),
      aborted,
      pendingAfterAbort,
      available: sem.available,
      log,
      mapped,
    };
  },

  async channel() {
    const { Channel, recv, select } = await import('weftjs/channel');
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
    return {
      count: received.length,
      inOrder: received.every((v, i) => v === i),
      selected,
      none,
      aSize: a.size,
    };
  },

  async scheduler() {
    const { Scheduler } = await import('weftjs/scheduler');
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

const errorInfo = (error) => ({
  name: error?.name,
  message: String(error?.message ?? error),
  causeName: error?.cause?.name,
  causeMessage: error?.cause?.message,
});
const settle = (promise) =>
  promise.then(
    (value) => ({ ok: true, value }),
    (error) => ({ ok: false, error: errorInfo(error) }),
  );
const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

Object.assign(scenarios, {
  // Every entry point, the root included, loads from dist/ with no Node built-in.
  async modules() {
    const entries = [
      'weftjs',
      'weftjs/sync',
      'weftjs/channel',
      'weftjs/scheduler',
      'weftjs/pool',
      'weftjs/shared',
      'weftjs/worker',
      'weftjs/redis',
    ];
    const loaded = {};
    for (const entry of entries) loaded[entry] = Object.keys(await import(entry)).sort();
    const root = await import('weftjs');
    const pool = await import('weftjs/pool');
    return {
      loaded,
      sameCrashClass: root.WorkerCrashedError === pool.WorkerCrashedError,
      isolated: globalThis.crossOriginIsolated === true,
    };
  },

  // Runs on the isolated page (shared slot tables) and on the plain one (private copies): the behaviour is the same.
  async pool() {
    const { WorkerPool, WorkerCrashedError, PoolClosedError } = await import('weftjs/pool');
    const { burn } = await import('./burn.js');
    const worker = new URL('./pool-worker.js', import.meta.url);
    const out = { isolated: globalThis.crossOriginIsolated === true };

    const pool = new WorkerPool({ worker, minThreads: 2, maxThreads: 2 });
    const echoed = await pool.run('echo', [{ list: [1, 2], map: new Map([[1, 'x']]) }]);
    out.echo = { list: echoed.list, map: [...echoed.map] };
    out.streamed = [];
    for await (const value of pool.stream('count', [5])) out.streamed.push(value);
    out.streamedEarly = [];
    for await (const value of pool.stream('count', [100])) {
      out.streamedEarly.push(value);
      if (value === 3) break;
    }
    out.unknown = await settle(pool.run('nope'));
    out.badName = await settle(pool.run(42));

    // Parallel speedup over running the same work inline: tasks of ~40 ms, 4 per worker. Each attempt also runs the
    // tasks on two bare module workers (the floor): when other processes hold a core, no pool can beat inline, and
    // the floor shows it. Up to five attempts; overlapping run intervals on two workers prove parallelism anyway.
    let iterations = 1 << 16;
    for (;;) {
      const start = performance.now();
      burn(iterations);
      const took = performance.now() - start;
      if (took > 10) {
        iterations = Math.round((iterations * 40) / took);
        break;
      }
      iterations *= 2;
    }
    const raw = [0, 1].map(() => new Worker(new URL('./raw-worker.js', import.meta.url), { type: 'module' }));
    const rawResults = new Map();
    for (const worker of raw) worker.onmessage = ({ data }) => rawResults.get(data[0])(data[1]);
    const runRaw = (i, n) =>
      new Promise((resolve) => {
        rawResults.set(i, resolve);
        raw[i % 2].postMessage([i, n]);
      });
    await Promise.all([runRaw(0, 1000), runRaw(1, 1000)]);
    await Promise.all([pool.run('burn', [1000]), pool.run('burn', [1000])]);
    const tasks = 8;
    out.attempts = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const inlineStart = performance.now();
      const inlineValues = [];
      for (let i = 0; i < tasks; i++) inlineValues.push(burn(iterations + i));
      const inline = performance.now() - inlineStart;
      const rawStart = performance.now();
      await Promise.all(Array.from({ length: tasks }, (_, i) => runRaw(i, iterations + i)));
      const floor = performance.now() - rawStart;
      const poolStart = performance.now();
      const runs = await Promise.all(
        Array.from({ length: tasks }, (_, i) => pool.run('burn', [iterations + i])),
      );
      const parallel = performance.now() - poolStart;
      out.attempts.push({ inline: Math.round(inline), floor: inline / floor, pool: inline / parallel });
      out.sameResults = runs.every((run, i) => run.value === inlineValues[i]);
      out.workers = new Set(runs.map((run) => run.worker)).size;
      out.overlap = runs.some((a) =>
        runs.some((b) => a.worker !== b.worker && a.start < b.end && b.start < a.end),
      );
      if (inline / parallel >= 1.5) break;
    }
    for (const worker of raw) worker.terminate();

    // A worker that dies rejects only its own task; the pool replaces it and goes on.
    const crash = settle(pool.run('crashLater', ['boom']));
    const bystanders = Promise.all(Array.from({ length: 6 }, (_, i) => pool.run('echo', [i])));
    out.crash = await crash;
    out.bystanders = await bystanders;
    const crashError = await pool.run('crashLater', ['again']).catch((error) => error);
    out.crashInstanceOf = crashError instanceof WorkerCrashedError;
    out.rejection = await settle(pool.run('rejectLater', ['unhandled']));
    out.closed = await settle(pool.run('closeSelf'));
    out.afterCrashes = await Promise.all([pool.run('echo', ['still']), pool.run('echo', ['working'])]);
    out.crashed = pool.stats.crashed;
    out.failed = pool.stats.failed;
    await pool.close();
    out.afterClose = await settle(pool.run('echo', [1]));
    out.afterCloseIsClass = (await pool.run('echo', [1]).catch((error) => error)) instanceof PoolClosedError;

    // Cancellation on one worker, so that follow-up calls land where the cancelled task ran.
    const single = new WorkerPool({ worker, maxThreads: 1, abortGrace: 200 });
    await single.run('echo', [0]);
    const controller = new AbortController();
    const waiting = settle(single.run('waitForAbort', [], { signal: controller.signal }));
    await delay(50);
    controller.abort();
    out.abort = await waiting;
    out.workerSawAbort = await single.run('lastAbort');
    out.timeout = await settle(single.run('waitForAbort', [], { timeout: 50 }));
    out.workerSawTimeout = await single.run('lastAbort');
    // A task that ignores the abort: the caller is released at once, the worker is replaced after the grace period.
    const before = await single.run('whoami');
    const spinning = new AbortController();
    const spinStart = performance.now();
    const spin = settle(single.run('spin', [20_000], { signal: spinning.signal }));
    await delay(50);
    spinning.abort();
    out.spin = await spin;
    out.spinReleasedMs = Math.round(performance.now() - spinStart);
    const after = await single.run('whoami');
    out.replacedMs = Math.round(performance.now() - spinStart);
    out.replaced = before !== after;
    out.singleCrashed = single.stats.crashed;
    await single.close();

    // A worker file that cannot load fails its tasks with a clear error, and the pool stays usable.
    const missing = new WorkerPool({
      worker: new URL('./missing-worker.js', import.meta.url),
      maxThreads: 1,
    });
    out.missing = await settle(missing.run('echo', [1]));
    out.missingAgain = await settle(missing.run('echo', [2]));
    await missing.close();
    out.badUrl = (() => {
      try {
        new WorkerPool({ worker: './relative.js' });
        return 'no error';
      } catch (error) {
        return errorInfo(error);
      }
    })();
    return out;
  },

  // A random mix of tasks submitted at once (generated by fast-check on the Node side): each settles once, as its
  // kind says, whatever happens to the others.
  async chaos(ops) {
    const { WorkerPool } = await import('weftjs/pool');
    const pool = new WorkerPool({
      worker: new URL('./pool-worker.js', import.meta.url),
      maxThreads: 2,
      abortGrace: 100,
    });
    const outcomes = await Promise.all(
      ops.map((op) => {
        switch (op.kind) {
          case 'ok':
            return settle(pool.run('echo', [op.value]));
          case 'throw':
            return settle(pool.run('fail', [String(op.value)]));
          case 'crash':
            return settle(pool.run('crashLater', ['chaos']));
          case 'abort': {
            const controller = new AbortController();
            const outcome = settle(pool.run('sleep', [op.ms, op.value], { signal: controller.signal }));
            setTimeout(() => controller.abort(), op.delay);
            return outcome;
          }
          case 'timeout':
            return settle(pool.run('waitForAbort', [], { timeout: op.delay }));
          default:
            throw new Error(`unknown op ${op.kind}`);
        }
      }),
    );
    const after = await settle(pool.run('echo', ['after']));
    const { completed, failed, crashed } = pool.stats;
    await pool.close();
    return { outcomes, after, stats: { completed, failed, crashed } };
  },

  // Worker files that load late, fail to load, or misuse expose().
  async poolEdges() {
    const { WorkerPool } = await import('weftjs/pool');
    const file = (name) => new URL(`./${name}`, import.meta.url);
    const out = {};
    const late = new WorkerPool({ worker: file('late-expose-worker.js'), maxThreads: 1 });
    out.late = await settle(late.run('late'));
    await late.close();
    const throws = new WorkerPool({ worker: file('throws-on-load-worker.js'), maxThreads: 1 });
    out.throwsOnLoad = await settle(throws.run('never'));
    await throws.close();
    const twice = new WorkerPool({ worker: file('twice-worker.js'), maxThreads: 1 });
    out.twice = await settle(twice.run('one'));
    await twice.close();
    // A path from the site's root is accepted, as new Worker('/...') would take it.
    const rooted = new WorkerPool({ worker: file('pool-worker.js').pathname, maxThreads: 1 });
    out.rooted = await settle(rooted.run('echo', ['rooted']));
    await rooted.close();
    // Arguments that cannot be cloned reject that task only.
    const pool = new WorkerPool({ worker: file('pool-worker.js'), maxThreads: 1 });
    out.uncloneable = await settle(pool.run('echo', [() => 1]));
    const bytes = new Uint8Array([1, 2, 3]);
    const back = await pool.run('echo', [bytes], { transfer: [bytes.buffer] });
    out.transferred = { type: back.constructor.name, values: [...back] };
    out.detached = bytes.byteLength;
    out.afterUncloneable = await settle(pool.run('echo', ['fine']));
    await pool.close();
    return out;
  },

  // SharedMutex across two module workers and this page: one worker blocks (lockSync), the other and the page await.
  async sharedMutex() {
    const { SharedMutex } = await import('weftjs/shared');
    const mutex = new SharedMutex();
    const counter = new Int32Array(new SharedArrayBuffer(4));
    let lockSync;
    try {
      mutex.lockSync();
      lockSync = 'no error';
    } catch (error) {
      lockSync = errorInfo(error);
    }
    const iterations = 500;
    const url = new URL('./shared-worker.js', import.meta.url);
    const workers = [0, 1].map(() => new Worker(url, { type: 'module' }));
    const done = workers.map(
      (worker, i) =>
        new Promise((resolve, reject) => {
          worker.onmessage = (event) => resolve(event.data);
          worker.onerror = (event) => reject(new Error(event.message || 'worker failed to load'));
          worker.postMessage({ handle: mutex.handle, counter: counter.buffer, iterations, sync: i === 0 });
        }),
    );
    for (let i = 0; i < iterations; i++) {
      await mutex.run(() => {
        const value = Atomics.load(counter, 0);
        for (let j = 0; j < 200; j++) Math.sqrt(j);
        Atomics.store(counter, 0, value + 1);
      });
    }
    const replies = await Promise.all(done);
    for (const worker of workers) worker.terminate();
    return {
      counter: counter[0],
      expected: 3 * iterations,
      replies,
      lockSync,
      locked: mutex.tryLock() !== undefined,
    };
  },

  // Without cross-origin isolation there is no SharedArrayBuffer: weftjs/shared says what to do about it.
  async sharedUnavailable() {
    const { SharedMutex, SharedSemaphore } = await import('weftjs/shared');
    const attempt = (create) => {
      try {
        create();
        return 'no error';
      } catch (error) {
        return errorInfo(error);
      }
    };
    return {
      isolated: globalThis.crossOriginIsolated === true,
      hasSharedArrayBuffer: typeof SharedArrayBuffer === 'function',
      mutex: attempt(() => new SharedMutex()),
      semaphore: attempt(() => new SharedSemaphore(2)),
    };
  },
});

window.weftScenarios = scenarios;
document.getElementById('status').textContent = 'ready';
