// The CPU-bound task of the pool benchmark: pure arithmetic, the same code inline and in every worker.
export function burn(iterations) {
  let x = 0;
  for (let i = 0; i < iterations; i++) x = (x + Math.sqrt(i ^ x)) % 1_000_003;
  return x;
}

export function echo(value) {
  return value;
}
