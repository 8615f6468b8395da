// The floor's worker: [id, fn, argument] in, [id, result] out, one postMessage each way, nothing else.
import { parentPort } from 'node:worker_threads';
import { burn } from './burn.mjs';

parentPort.on('message', (message) => {
  parentPort.postMessage([message[0], message[1] === 1 ? burn(message[2]) : message[2]]);
});
