import { ValidationError } from './errors.js';

/** What kind of contract an instrument is; decides margin and shorting rules. */
export type InstrumentKind = 'spot' | 'cfd' | 'future' | 'index' | 'stock' | 'forex';

/** A tradable instrument with its venue precision and limits. */
export interface Instrument {
  symbol: string;
  base: string;
  quote: string;
  kind: InstrumentKind;
  /** Smallest price increment. */
  tickSize: number;
  /** Smallest quantity increment. */
  lotSize: number;
  /** Smallest order quantity (defaults to lotSize). */
  minQty: number;
  /** Smallest order value in quote currency (0 = none). */
  minNotional: number;
  /** Contract multiplier: value of one unit per price point (1 for spot). */
  multiplier: number;
  /** Initial margin as a fraction of the notional on margin venues (CFDs, futures); absent = fully paid (spot). */
  marginRate?: number;
}

/** Creates an instrument, validating that increments are positive. */
export function defineInstrument(spec: Partial<Instrument> & { symbol: string }): Instrument {
  const [base = spec.symbol, quote = 'USD'] = spec.symbol.split('/');
  const inst: Instrument = {
    base,
    quote,
    kind: 'spot',
    tickSize: 0.01,
    lotSize: 1e-8,
    minNotional: 0,
    multiplier: 1,
    ...spec,
    minQty: spec.minQty ?? spec.lotSize ?? 1e-8,
  };
  for (const k of ['tickSize', 'lotSize', 'multiplier'] as const) {
    if (!(inst[k] > 0) || !Number.isFinite(inst[k])) {
      throw new ValidationError(`instrument ${inst.symbol}: ${k} must be a positive number, got ${inst[k]}`, k);
    }
  }
  return inst;
}

/** Number of decimals needed to print multiples of `step` exactly (e.g. 0.01 -> 2). */
export function decimalsOf(step: number): number {
  if (!Number.isFinite(step) || step <= 0) return 0;
  const s = step.toString();
  const e = s.indexOf('e-');
  if (e >= 0) return Number(s.slice(e + 2)) + (s.indexOf('.') >= 0 ? s.slice(0, e).split('.')[1].length : 0);
  const dot = s.indexOf('.');
  return dot < 0 ? 0 : s.length - dot - 1;
}

// Increments like 0.1 are not exact in binary: 0.3 / 0.1 is 2.9999999999999996 and 1.23456789 / 1e-8 is
// 123456788.99999999. Value, step and quotient each carry at most ~1.1e-16 relative error, so a nudge of
// 1e-15 x q (plus an absolute 1e-9 for small q) absorbs the division's noise without ever reaching a real
// fraction of a step: 297.5263824599 with lot 1e-8 is 0.99 lot above a multiple and must floor, not ceil.
const EPS = 1e-9;
const REL_EPS = 1e-15;

/** Whole number of `step`s in `value`: 'nearest' (half-up), 'down' (toward -inf) or 'up' (toward +inf). */
export function stepUnits(value: number, step: number, mode: 'nearest' | 'down' | 'up' = 'nearest'): number {
  const q = value / step;
  const nudge = EPS + Math.abs(q) * REL_EPS;
  if (mode === 'down') return Math.floor(q + nudge);
  if (mode === 'up') return Math.ceil(q - nudge);
  return Math.round(q + nudge); // 1.005 / 0.01 is 100.49999999999999; decimal half-up means 101
}

/** Rounds `value` to a multiple of `step`: 'nearest', 'down' (toward -inf) or 'up' (toward +inf). */
export function roundToStep(value: number, step: number, mode: 'nearest' | 'down' | 'up' = 'nearest'): number {
  const n = stepUnits(value, step, mode);
  const d = decimalsOf(step);
  return Number((n * step).toFixed(Math.min(d, 20)));
}

/** Rounds a price to the instrument's tick. */
export function roundPrice(inst: Instrument, price: number, mode: 'nearest' | 'down' | 'up' = 'nearest'): number {
  return roundToStep(price, inst.tickSize, mode);
}

/** Rounds a quantity down to the instrument's lot (never buys more than asked). */
export function roundQuantity(inst: Instrument, qty: number): number {
  return roundToStep(qty, inst.lotSize, 'down');
}

/** Why an order size does not meet the instrument's limits, or null when it does. */
export function checkOrderSize(inst: Instrument, qty: number, price: number): string | null {
  if (!(qty > 0)) return `quantity ${qty} must be positive`;
  if (qty < inst.minQty - EPS * inst.minQty) return `quantity ${qty} below minimum ${inst.minQty}`;
  const notional = qty * price * inst.multiplier;
  if (inst.minNotional > 0 && notional < inst.minNotional) {
    return `notional ${notional} below minimum ${inst.minNotional}`;
  }
  return null;
}
