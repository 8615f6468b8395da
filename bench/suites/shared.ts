/**
 * weftjs/shared against the usual workaround and a hand-written floor: a lock contended by two threads (each takes
 * and releases it in a loop, incrementing a shared counter non-atomically inside), and the cost of an uncontended
 * lock/unlock on one thread.
 */
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { SharedMutex } from 'weftjs/shared';
import { Mutex } from 'weftjs/sync';
import { runScenario, timeAsync, type Contender, type ScenarioResult } from '../lib/harness.js';
import type { Suite } from '../lib/suite.js';

const workerFile = new URL('../workers/shared-contender.mjs', import.meta.url);

/**
 * The usual workaround without shared memory: one thread owns the lock and grants it over postMessage, in FIFO
 * order. Ports queue in a ring so that a hand-off costs no array shifting.
 */
class LockServer {
  private locked = false;
  private queue: (MessagePort | undefined)[] = new Array<MessagePort | undefined>(8);
  private head = 0;
  private size = 0;

  serve(port: MessagePort): void {
    port.on('message', (message: string) => {
      if (message === 'acquire') this.acquire(port);
      else this.release();
    });
  }

  private acquire(port: MessagePort): void {
    if (!this.locked) {
      this.locked = true;
      port.postMessage('grant');
      return;
    }
    if (this.size === this.queue.length) throw new Error('lock server queue full');
    this.queue[(this.head + this.size++) & (this.queue.length - 1)] = port;
  }

  private release(): void {
    if (this.size === 0) {
      this.locked = false;
      return;
    }
    const next = this.queue[this.head]!;
    this.queue[this.head] = undefined;
    this.head = (this.head + 1) & (this.queue.length - 1);
    this.size--;
    next.postMessage('grant');
  }
}

interface Thread {
  worker: Worker;
  send(message: unknown): Promise<void>;
}

function startThread(setup: { state: Int32Array; handle: unknown }, server: LockServer): Promise<Thread> {
  const worker = new Worker(workerFile);
  let replied: (() => void) | undefined;
  worker.on('message', () => replied?.());
  const send = (message: unknown, transfer?: MessagePort[]): Promise<void> =>
    new Promise((resolve, reject) => {
      replied = resolve;
      worker.once('error', reject);
      worker.postMessage(message, transfer);
    });
  const channel = new MessageChannel();
  server.serve(channel.port1);
  return send({ type: 'setup', ...setup, server: channel.port2 }, [channel.port2]).then(() => ({
    worker,
    send,
  }));
}

async function contended(quick: boolean): Promise<ScenarioResult> {
  const n = quick ? 2_000 : 10_000;
  const state = new Int32Array(new SharedArrayBuffer(20));
  const mutex = new SharedMutex();
  const server = new LockServer();
  const threads = await Promise.all([0, 1].map(() => startThread({ state, handle: mutex.handle }, server)));
  const sample = async (kind: string): Promise<number> => {
    state.fill(0);
    const ms = await timeAsync(() =>
      Promise.all(threads.map((t) => t.send({ type: 'run', kind, n, threads: threads.length }))),
    );
    if (state[1] !== 2 * n) throw new Error(`${kind}: lost updates (${state[1]} of ${2 * n})`);
    return (ms * 1000) / (2 * n);
  };
  const contenders: Contender[] = [
    {
      name: 'futex mutex, Atomics.wait (hand-written, unfair)',
      kind: 'floor',
      sample: () => sample('futex'),
    },
    {
      name: 'ticket lock, Atomics.wait (hand-written, fair)',
      kind: 'baseline',
      sample: () => sample('ticket'),
    },
    { name: 'SharedMutex.lockSync()', kind: 'weft', sample: () => sample('sync') },
    { name: 'SharedMutex.lock() (async)', kind: 'weft', sample: () => sample('async') },
    { name: 'lock server over postMessage (async)', kind: 'peer', sample: () => sample('server') },
  ];
  try {
    return await runScenario(
      {
        id: 'shared-contended',
        title: 'Mutex contended by 2 threads: one lock/unlock',
        unit: 'us',
        target: 'SharedMutex.lock() well ahead of the postMessage lock server',
        rounds: quick ? 3 : 9,
        warmup: quick ? 1 : 2,
        contenders,
      },
      () => {},
    );
  } finally {
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }
}

async function uncontended(quick: boolean): Promise<ScenarioResult> {
  const n = quick ? 20_000 : 200_000;
  const shared = new SharedMutex();
  const local = new Mutex();
  const word = new Int32Array(new SharedArrayBuffer(4));
  const perOp = (ms: number): number => (ms * 1e6) / n;
  const contenders: Contender[] = [
    {
      name: 'CAS lock on a SharedArrayBuffer (hand-written)',
      kind: 'floor',
      sample: () => {
        const start = performance.now();
        for (let i = 0; i < n; i++) {
          if (Atomics.compareExchange(word, 0, 0, 1) !== 0) throw new Error('contended');
          if (Atomics.exchange(word, 0, 0) === 2) Atomics.notify(word, 0, 1);
        }
        return perOp(performance.now() - start);
      },
    },
    {
      name: 'SharedMutex tryLock() + release()',
      kind: 'weft',
      sample: () => {
        const start = performance.now();
        for (let i = 0; i < n; i++) shared.tryLock()!.release();
        return perOp(performance.now() - start);
      },
    },
    {
      name: 'SharedMutex await lock() + release()',
      kind: 'weft',
      sample: async () =>
        perOp(
          await timeAsync(async () => {
            for (let i = 0; i < n; i++) (await shared.lock()).release();
          }),
        ),
    },
    {
      name: 'weftjs/sync Mutex await lock() + release() (one thread only)',
      kind: 'baseline',
      sample: async () =>
        perOp(
          await timeAsync(async () => {
            for (let i = 0; i < n; i++) (await local.lock()).release();
          }),
        ),
    },
  ];
  return runScenario({
    id: 'shared-uncontended',
    title: 'Mutex uncontended, one thread: one lock/unlock',
    unit: 'ns',
    rounds: quick ? 3 : 9,
    warmup: quick ? 1 : 2,
    contenders,
  });
}

const suite: Suite = {
  name: 'shared',
  title: 'weftjs/shared: locks across threads',
  description:
    'Two worker threads take and release one lock in a loop, incrementing a shared counter non-atomically inside ' +
    '(every run checks the total, so a lock that loses updates fails the benchmark). The floor is a hand-written ' +
    'futex mutex parking on `Atomics.wait`: unfair, so a thread usually re-takes the lock it just released without ' +
    'waking anyone. weft hands the lock over in FIFO order, which costs a thread wake-up per hand-off: the ' +
    'hand-written fair ticket lock shows that price by itself. The peer is the usual workaround without shared ' +
    'memory, a lock server on the main thread granting over `postMessage`. The second table is one thread taking ' +
    'a free lock: the bookkeeping a lock/unlock pays before any contention.',
  async run({ quick, log }) {
    const results: ScenarioResult[] = [];
    log('  shared: contended');
    results.push(await contended(quick));
    log('  shared: uncontended');
    results.push(await uncontended(quick));
    return results;
  },
};

export default suite;
