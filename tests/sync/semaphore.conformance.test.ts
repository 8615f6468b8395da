import { Semaphore } from '../../src/sync/index.js';
import { mutexConformance } from '../conformance/mutex.suite.js';
import { semaphoreConformance } from '../conformance/semaphore.suite.js';

semaphoreConformance('Semaphore', (permits) => new Semaphore(permits));

// A semaphore of one permit is a mutex, and must pass as one.
mutexConformance('Semaphore(1) as a mutex', () => {
  const sem = new Semaphore(1);
  return {
    lock: (opts) => sem.acquire(1, opts),
    tryLock: () => sem.tryAcquire(),
    run: (fn, opts) => sem.run(fn, opts),
  };
});
