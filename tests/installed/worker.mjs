// The pool's worker file, importing the installed weftjs/worker as an app's worker would.
import { expose } from 'weftjs/worker';
import { SharedMutex } from 'weftjs/shared';

expose({
  add(a, b) {
    return a + b;
  },
  async *count(n) {
    for (let i = 0; i < n; i++) yield i;
  },
  /** Whether the lock behind `handle` is free from this thread's point of view. */
  lockIsFree(handle) {
    const permit = SharedMutex.from(handle).tryLock();
    permit?.release();
    return permit !== undefined;
  },
});
