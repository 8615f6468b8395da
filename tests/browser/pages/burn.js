// CPU-bound work shared by the page (inline runs) and the pool worker, so that both sides do exactly the same job.
export function burn(iterations) {
  let x = 0x9e3779b9 | 0;
  for (let i = 0; i < iterations; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
  }
  return x;
}
