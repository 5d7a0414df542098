import { ValidationError } from '../core/errors.js';

/** Throws a ValidationError unless `value` is an integer >= `min`; `what` names the indicator parameter. */
export function checkPeriod(what: string, value: number, min = 1): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ValidationError(`${what} must be an integer >= ${min}, got ${value}`, what);
  }
  return value;
}

/** Throws a ValidationError unless `value` is a finite number > 0. */
export function checkPositive(what: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new ValidationError(`${what} must be a finite number > 0, got ${value}`, what);
  }
  return value;
}

/** Throws a ValidationError unless all input columns have the same length as the first. */
export function checkSameLength(what: string, ...columns: ArrayLike<number>[]): number {
  const n = columns[0].length;
  for (const c of columns) {
    if (c.length !== n)
      throw new ValidationError(`${what}: input columns differ in length (${n} vs ${c.length})`, what);
  }
  return n;
}
