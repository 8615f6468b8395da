// A pool worker that awaits before calling expose(): the pool's first message must not be lost meanwhile.
import { expose } from '../../../dist/worker/index.js';

await new Promise((resolve) => setTimeout(resolve, 100));

expose({
  late() {
    return 'exposed late';
  },
});
