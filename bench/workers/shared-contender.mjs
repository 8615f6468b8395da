// One contender thread of the weftjs/shared benchmark. It stays up across rounds: each `run` message makes it take
// and release a lock `n` times (incrementing a shared counter non-atomically inside), then reply `done`.
//
// Locks, all guarding the same critical section:
//   futex     the floor: a hand-written futex mutex (Drepper's three-state lock), Atomics.wait to park, unfair
//   ticket    a hand-written fair ticket lock with Atomics.wait (baseline: what fairness costs by itself)
//   sync      weft SharedMutex.lockSync()
//   async     weft SharedMutex.lock()
//   server    the usual workaround without shared memory: ask a lock server on the main thread over postMessage
import { parentPort } from 'node:worker_threads';
import { SharedMutex } from 'weftjs/shared';

let state; // Int32Array: [0] futex word, [1] counter, [2] ticket next, [3] ticket serving, [4] threads started
let mutex;
let server; // MessagePort to the lock server
let granted; // resolves the pending grant from the server

const SPINS = 100;

function futexLock(s) {
  let c = Atomics.compareExchange(s, 0, 0, 1);
  if (c === 0) return;
  for (let i = 0; i < SPINS; i++) {
    if (Atomics.load(s, 0) === 0 && (c = Atomics.compareExchange(s, 0, 0, 1)) === 0) return;
  }
  if (c !== 2) c = Atomics.exchange(s, 0, 2);
  while (c !== 0) {
    Atomics.wait(s, 0, 2);
    c = Atomics.exchange(s, 0, 2);
  }
}

function futexUnlock(s) {
  if (Atomics.exchange(s, 0, 0) === 2) Atomics.notify(s, 0, 1);
}

function ticketLock(s) {
  const ticket = Atomics.add(s, 2, 1);
  for (let i = 0; i < SPINS; i++) if (Atomics.load(s, 3) === ticket) return;
  for (let serving = Atomics.load(s, 3); serving !== ticket; serving = Atomics.load(s, 3)) {
    Atomics.wait(s, 3, serving);
  }
}

function ticketUnlock(s) {
  Atomics.add(s, 3, 1);
  Atomics.notify(s, 3);
}

function serverLock() {
  return new Promise((resolve) => {
    granted = resolve;
    server.postMessage('acquire');
  });
}

async function run(kind, n) {
  const s = state;
  switch (kind) {
    case 'futex':
      for (let i = 0; i < n; i++) {
        futexLock(s);
        s[1]++;
        futexUnlock(s);
      }
      break;
    case 'ticket':
      for (let i = 0; i < n; i++) {
        ticketLock(s);
        s[1]++;
        ticketUnlock(s);
      }
      break;
    case 'sync':
      for (let i = 0; i < n; i++) {
        const permit = mutex.lockSync();
        s[1]++;
        permit.release();
      }
      break;
    case 'async':
      for (let i = 0; i < n; i++) {
        const permit = await mutex.lock();
        s[1]++;
        permit.release();
      }
      break;
    case 'server':
      for (let i = 0; i < n; i++) {
        await serverLock();
        s[1]++;
        server.postMessage('release');
      }
      break;
    default:
      throw new Error(`unknown lock ${kind}`);
  }
}

parentPort.on('message', async (message) => {
  if (message.type === 'setup') {
    state = message.state;
    mutex = SharedMutex.from(message.handle);
    server = message.server;
    server.on('message', () => granted());
    server.unref();
    parentPort.postMessage('ready');
  } else if (message.type === 'run') {
    // Start together with the other thread (spinning: both are up), so that the whole run is contended.
    Atomics.add(state, 4, 1);
    while (Atomics.load(state, 4) < message.threads);
    await run(message.kind, message.n);
    parentPort.postMessage('done');
  }
});
