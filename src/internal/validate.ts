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

/**
 * The error for a bad argument: `${where}: ${rule}, got ${value}`, a `TypeError` when `value` has the wrong type
 * and a `RangeError` when it is of the right type but out of range.
 */
export function invalid(
  where: string,
  rule: string,
  value: unknown,
  outOfRange = false,
): TypeError | RangeError {
  const message = `${where}: ${rule}, got ${describe(value)}`;
  return outOfRange ? new RangeError(message) : new TypeError(message);
}

/** The error for a value that is not a positive integer, or `undefined` when it is one. */
export function positiveIntegerError(
  where: string,
  name: string,
  value: unknown,
): TypeError | RangeError | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 1) return undefined;
  return invalid(where, `${name} must be a positive integer`, value, typeof value === 'number');
}

/** Throws unless `value` is an integer from 0 up (or `Infinity`, where `infinityAllowed`). */
export function assertNonNegativeInteger(
  where: string,
  name: string,
  value: unknown,
  infinityAllowed = false,
): asserts value is number {
  if (
    typeof value === 'number' &&
    (Number.isInteger(value) || (infinityAllowed && value === Infinity)) &&
    value >= 0
  )
    return;
  throw invalid(where, `${name} must be a non-negative integer`, value, typeof value === 'number');
}

/** Throws unless `value` is a positive integer. */
export function assertPositiveInteger(where: string, name: string, value: unknown): asserts value is number {
  const error = positiveIntegerError(where, name, value);
  if (error !== undefined) throw error;
}

/** The error for a value that is not a non-negative number (`Infinity` allowed, `NaN` not), or `undefined`. */
export function nonNegativeNumberError(
  where: string,
  rule: string,
  value: unknown,
): TypeError | RangeError | undefined {
  if (typeof value === 'number' && value >= 0) return undefined;
  return invalid(where, rule, value, typeof value === 'number');
}

/** Throws unless `value` is a non-negative number (`Infinity` allowed, `NaN` not). */
export function assertNonNegativeNumber(
  where: string,
  name: string,
  value: unknown,
): asserts value is number {
  const error = nonNegativeNumberError(where, `${name} must be a non-negative number`, value);
  if (error !== undefined) throw error;
}

/** Throws a `TypeError` unless `value` is a function. */
export function assertFunction(
  where: string,
  name: string,
  value: unknown,
): asserts value is (...args: never[]) => unknown {
  if (typeof value !== 'function') throw invalid(where, `${name} must be a function`, value);
}
