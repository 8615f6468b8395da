// A pool worker that calls expose() twice (a mistake the pool reports).
import { expose } from '../../../dist/worker/index.js';

expose({ one: () => 1 });
expose({ two: () => 2 });
