// The CPU-bound unit of work used by the demo on every model: a few hundred thousand rounds of an integer hash.
// Plain JavaScript so the main thread and the pool's workers import the very same code.

/** Hashes `rounds` integers starting at `seed`; returns a 32-bit checksum so the work cannot be optimised away. */
export function hashRounds(seed, rounds) {
  let h = seed | 0;
  for (let i = 0; i < rounds; i++) {
    h ^= i;
    h = Math.imul(h, 0x5bd1e995);
    h ^= h >>> 15;
  }
  return h >>> 0;
}
