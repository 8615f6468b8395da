// The floor for the speedup check: a bare module worker that runs burn() per message, no pool involved.
import { burn } from './burn.js';

onmessage = ({ data }) => postMessage([data[0], burn(data[1])]);
