// A pool worker whose module throws while it loads, before calling expose().
import { expose } from '../../../dist/worker/index.js';

throw new Error('bad configuration');

// eslint-disable-next-line no-unreachable
expose({ never: () => 0 });
