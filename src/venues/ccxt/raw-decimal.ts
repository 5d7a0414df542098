/**
 * The decimal text an exchange sent for a number ccxt parsed (docs/money.md): ccxt's unified trades and orders carry
 * doubles, while the raw message (`info`) keeps the exchange's strings. Reading the string keeps every digit the
 * venue wrote, even past a double's 15.
 */
import { decimalText, exact } from '../../core/money.js';

/** Raw field names of the amounts, across the exchanges we speak to (Binance REST and user data, Kraken). */
export const RAW_FIELDS = {
  price: ['price', 'L', 'avgPrice', 'px'],
  quantity: ['qty', 'l', 'vol', 'amount', 'executedQty'],
  fee: ['commission', 'n', 'fee'],
  orderQuantity: ['origQty', 'q', 'vol', 'amount'],
  filledQuantity: ['executedQty', 'z', 'vol_exec', 'filled'],
} as const;

/** A plain decimal string (no exponent, sign optional): what an exchange writes. */
const DECIMAL = /^[+-]?\d+(\.\d+)?$/;

/**
 * The raw text of `value` in `info`: the first of `keys` holding a decimal string that parses to exactly `value`
 * (so a field that means something else, or an amount ccxt derived, is never taken), as plain decimal text.
 * Undefined when no field qualifies: the reader then takes the double at its 15-digit decimal.
 */
export function rawDecimal(info: unknown, keys: readonly string[], value: number | undefined): string | undefined {
  if (value === undefined || value === null || !Number.isFinite(value) || info === null || typeof info !== 'object')
    return undefined;
  const rec = info as Record<string, unknown>;
  for (const k of keys) {
    const text = rec[k];
    if (typeof text === 'string' && DECIMAL.test(text) && Number(text) === value) return decimalText(exact(text, k));
  }
  return undefined;
}
