// The pool's worker: a module Web Worker. In an app that bundles weft, import from 'weftjs/worker' instead.
import { expose } from '../../dist/worker/index.js';
import { countPrimes } from './primes.js';

expose({ countPrimes });
