/**
 * One incrementing thread: adds 1 to a shared counter `increments` times with a plain read-modify-write, either
 * unprotected, under `lockSync()` (blocking, allowed in a worker) or under `run()` (async, never blocks).
 */
import { workerData } from 'node:worker_threads';
import { SharedMutex, type SharedHandle } from 'weftjs/shared';

export type Mode = 'no lock' | 'lockSync()' | 'run()';

export interface CounterJob {
  lock: SharedHandle;
  /** [0] the counter, [1] threads ready, [2] the start signal. */
  counter: Int32Array;
  increments: number;
  mode: Mode;
}

const { lock, counter, increments, mode } = workerData as CounterJob;
const mutex = SharedMutex.from(lock);

// Start together, so that the threads really overlap (starting a thread takes far longer than the loop).
Atomics.add(counter, 1, 1);
Atomics.notify(counter, 1);
Atomics.wait(counter, 2, 0);

/** A little computation between the read and the write, as real code has (parse, validate, log...). */
function work(seed: number): number {
  let x = seed;
  for (let k = 0; k < 20; k++) x = (x * 31 + k) % 1_000_003;
  return x;
}

function increment(): void {
  // Read, then write: another thread writing in between is overwritten (a lost update) unless a lock is held.
  const value = counter[0]!;
  if (work(value) < 0) throw new Error('unreachable');
  counter[0] = value + 1;
}

if (mode === 'no lock') {
  for (let i = 0; i < increments; i++) increment();
} else if (mode === 'lockSync()') {
  for (let i = 0; i < increments; i++) {
    using _lock = mutex.lockSync();
    increment();
  }
} else {
  for (let i = 0; i < increments; i++) await mutex.run(increment);
}
