/**
 * SharedMutex and SharedSemaphore held to exactly the behaviour of Mutex and Semaphore (the shared conformance
 * suites), first as they are, then spread over two views of the same memory: every call goes to the next view in
 * turn, so grants cross between views through shared memory and Atomics.waitAsync, as they do between threads.
 */
import { mutexConformance, type MutexLike } from '../conformance/mutex.suite.js';
import { semaphoreConformance, type SemaphoreLike } from '../conformance/semaphore.suite.js';
import { SharedMutex, SharedSemaphore } from '../../src/shared/index.js';

/** One lock, reached through `views` in round-robin order. */
function alternating<T extends object>(views: T[]): T {
  let next = 0;
  const pick = (): T => views[next++ % views.length]!;
  return new Proxy(views[0]!, {
    get(_target, key) {
      const view = pick() as Record<PropertyKey, unknown>;
      const value = view[key];
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(view) : value;
    },
  });
}

mutexConformance('SharedMutex', () => new SharedMutex());

mutexConformance('SharedMutex (two views)', (): MutexLike => {
  const mutex = new SharedMutex();
  return alternating([mutex, SharedMutex.from(structuredClone(mutex.handle))]);
});

semaphoreConformance('SharedSemaphore', (permits) => new SharedSemaphore(permits));

semaphoreConformance('SharedSemaphore (two views)', (permits): SemaphoreLike => {
  const sem = new SharedSemaphore(permits);
  return alternating([sem, SharedSemaphore.from(structuredClone(sem.handle))]);
});
