// The CPU-heavy job of the demo: counting primes by trial division. The page runs it inline and on the Scheduler;
// the pool's worker imports the same code.

function isPrime(n) {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** Primes in [from, to), in one go. */
export function countPrimes(from, to) {
  let count = 0;
  for (let n = from; n < to; n++) if (isPrime(n)) count++;
  return count;
}

/**
 * The same count as a generator task for the Scheduler: a bare `yield` every few hundred numbers is a yield point,
 * and the scheduler hands control back to the browser only once its time slice is spent, so yields are cheap.
 */
export function* countPrimesCooperatively(from, to) {
  let count = 0;
  for (let n = from; n < to; n++) {
    if (isPrime(n)) count++;
    if ((n & 255) === 0) yield;
  }
  return count;
}
