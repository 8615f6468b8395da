// A plain module Web Worker (not a pool worker) that bumps a shared counter under a SharedMutex opened from a handle.
import { SharedMutex } from '../../../dist/shared/index.js';

// A read-modify-write that loses updates unless the lock makes it exclusive.
function bump(counter) {
  const value = Atomics.load(counter, 0);
  for (let i = 0; i < 200; i++) Math.sqrt(i);
  Atomics.store(counter, 0, value + 1);
}

onmessage = async ({ data }) => {
  const mutex = SharedMutex.from(data.handle);
  const counter = new Int32Array(data.counter);
  for (let i = 0; i < data.iterations; i++) {
    if (data.sync) {
      const permit = mutex.lockSync({ timeout: 10_000 });
      try {
        bump(counter);
      } finally {
        permit.release();
      }
    } else {
      await mutex.run(() => bump(counter));
    }
  }
  postMessage({ done: data.iterations, sync: data.sync });
};
