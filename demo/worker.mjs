// The demo's pool worker: the same CPU unit as the main thread, and one HTTP request, exposed to the pool.
import { expose } from 'weftjs/worker';
import { hashRounds } from './work.mjs';

expose({
  /** Runs `units` CPU units and returns their combined checksum. */
  cpuUnits(firstUnit, units, roundsPerUnit) {
    let sum = 0;
    for (let u = firstUnit; u < firstUnit + units; u++) sum = (sum + hashRounds(u, roundsPerUnit)) >>> 0;
    return sum;
  },
  /** Fetches one URL and returns its body's length. */
  async fetchLength(url) {
    const response = await fetch(url);
    return (await response.text()).length;
  },
});
