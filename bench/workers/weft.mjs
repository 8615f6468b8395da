import { expose } from 'weftjs/worker';
import { burn, echo } from './burn.mjs';

/** Resident memory of this worker's process (with runtime: 'process', its own child process). */
function rss() {
  return process.memoryUsage().rss;
}

expose({ echo, burn, rss });
