import { Mutex } from '../../src/sync/index.js';
import { mutexConformance } from '../conformance/mutex.suite.js';

mutexConformance('Mutex', () => new Mutex());
