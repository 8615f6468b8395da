/** Argument checks that produce messages naming the argument and the value received. */

/** Renders a received value for an error message. */
export function describe(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return `function ${value.name || '(anonymous)'}`;
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return `an array of length ${value.length}`;
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
      return typeof name === 'string' && name !== 'Object' ? `an instance of ${name}` : 'an object';
    }
    default:
      return String(value);
  }
}

/** The error for a value that is not a positive integer, or `undefined` when it is one. */
export function positiveIntegerError(
  where: string,
  name: string,
  value: unknown,
): TypeError | RangeError | undefined {
  if (typeof value !== 'number') {
    return new TypeError(`${where}: ${name} must be a positive integer, got ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < 1) {
    return new RangeError(`${where}: ${name} must be a positive integer, got ${describe(value)}`);
  }
  return undefined;
}

/** Throws unless `value` is a positive integer. */
export function assertPositiveInteger(where: string, name: string, value: unknown): asserts value is number {
  const error = positiveIntegerError(where, name, value);
  if (error !== undefined) throw error;
}

/** Throws unless `value` is a non-negative number (Infinity allowed). */
export function assertNonNegativeNumber(
  where: string,
  name: string,
  value: unknown,
): asserts value is number {
  if (typeof value !== 'number') {
    throw new TypeError(`${where}: ${name} must be a non-negative number, got ${describe(value)}`);
  }
  if (Number.isNaN(value) || value < 0) {
    throw new RangeError(`${where}: ${name} must be a non-negative number, got ${describe(value)}`);
  }
}

/** Throws unless `value` is a function. */
export function assertFunction(
  where: string,
  name: string,
  value: unknown,
): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') {
    throw new TypeError(`${where}: ${name} must be a function, got ${describe(value)}`);
  }
}
