import { Decimal } from 'decimal.js';
import { decimalText, exact } from '../core/money.js';

/** A money amount or quantity as the caller holds it. */
export type Amount = number | string | Decimal;

/**
 * Converts an amount to the decimal string the store keeps. A JS number becomes its shortest round-trip text
 * (`String(0.1)` is `"0.1"`), so reading it back with `Number()` gives the identical double: nothing is lost.
 */
export function toDecimalText(value: Amount): string {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`cannot store non-finite amount ${value}`);
    return String(value);
  }
  return new Decimal(value).toString();
}

/** Optional variant of toDecimalText. */
export function toDecimalTextOrNull(value: Amount | undefined | null): string | null {
  return value === undefined || value === null ? null : toDecimalText(value);
}

/** Reads a stored decimal string as a JS number (the domain's representation). */
export function fromDecimalText(text: string): number {
  return Number(text);
}

/** Reads a stored decimal string exactly, for accounting that must not round. */
export function fromDecimalTextExact(text: string): Decimal {
  return new Decimal(text);
}

/**
 * A stored decimal as exact decimal text (`DecimalText`: plain, no exponent or trailing zeros), as the domain's
 * `exact` fields carry it. PostgreSQL's numeric text (`"0.10000000"`) and SQLite's text read the same. `what` names
 * the column in the one-line error a corrupt value gives.
 */
export function exactText(text: string, what: string): string {
  return decimalText(exact(text, what));
}
