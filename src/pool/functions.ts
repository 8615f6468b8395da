import { KIND_GENERATOR } from './protocol.js';

/**
 * The functions the workers expose, as the first worker that starts reports them (names in `expose()` order and
 * their kinds), and the callers waiting to learn whether a name is a generator function.
 */
export class ExposedFunctions {
  /** Name to index, from the first worker that started. */
  private indexes: Map<string, number> | undefined = undefined;
  private kinds: Map<string, number> | undefined = undefined;
  private waiters: (() => void)[] = [];

  /** Whether a worker has reported the functions yet. */
  get known(): boolean {
    return this.kinds !== undefined;
  }

  /**
   * The name-to-index map of a worker that reported `names` and `kinds`: the first worker's map when they match
   * (the usual case), else its own. The first report makes the kinds known and wakes the waiters.
   */
  learn(names: readonly string[], kinds: readonly number[]): Map<string, number> {
    let indexes = this.indexes;
    if (
      indexes === undefined ||
      indexes.size !== names.length ||
      names.some((n, i) => indexes!.get(n) !== i)
    ) {
      indexes = new Map(names.map((name, index) => [name, index]));
    }
    if (this.indexes === undefined) {
      this.indexes = indexes;
      this.kinds = new Map(names.map((name, index) => [name, kinds[index]!]));
      this.wake();
    }
    return indexes;
  }

  /** Whether `name` is a generator function; `undefined` while no worker has reported. */
  isGenerator(name: string): boolean | undefined {
    if (this.kinds === undefined) return undefined;
    return this.kinds.get(name) === KIND_GENERATOR;
  }

  /** Resolves at the next {@link wake}: once the kinds are known, or when no worker is left to report them. */
  nextWake(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Lets the waiters go on (they learn the kinds, or fail the way `run` does). */
  wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** The error of a task naming a function its worker does not expose. */
export function unknownFunction(operation: string, name: string, functions: Map<string, number>): RangeError {
  const available = [...functions.keys()].join(', ');
  return new RangeError(
    `${operation}: the worker exposes no function named ${JSON.stringify(name)}; it exposes: ${available}`,
  );
}
