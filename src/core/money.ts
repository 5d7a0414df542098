import { Decimal } from 'decimal.js';
import type { Instrument } from './instrument.js';
import type { OrderSide } from './order.js';

/**
 * Exact money of the live path (docs/money.md). An amount is a decimal.js value: every decimal a venue or a person
 * writes is held as written, and sums, products and differences of them are exact. Only division (an average price)
 * rounds, at 40 significant digits, half-even — far below a cent on any amount a venue can hold.
 */
export const Exact = Decimal.clone({ precision: 40, rounding: Decimal.ROUND_HALF_EVEN, toExpNeg: -40, toExpPos: 40 });
/** An exact decimal (an instance of `Exact`). */
export type Exact = InstanceType<typeof Exact>;
/** A money amount (cash, fee, realised P&L, a notional) in the quote currency, exact. */
export type Money = Exact;
/** An order or position quantity in base units (or contracts), exact. */
export type Quantity = Exact;

/** Significant digits of a double that are always the decimal it was written from (IEEE 754: 15). */
const DOUBLE_DIGITS = 15;

/** Zero, shared (decimal.js values are immutable). */
export const ZERO: Exact = new Exact(0);

/**
 * The exact decimal a value stands for. A string (ccxt, the store, the API) is read as written. A double is read
 * as its 15-significant-digit decimal: every decimal with at most 15 significant digits survives the trip through a
 * double, so this removes binary noise (`0.1 + 0.2` is 0.3, `0.3 - 0.1` is 0.2) and keeps everything a venue sent.
 * Throws a RangeError naming `what` for a non-finite number or a string that is not a decimal.
 */
export function exact(value: number | string | Exact, what = 'amount'): Exact {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new RangeError(`${what}: ${value} is not a finite number`);
    return new Exact(value.toPrecision(DOUBLE_DIGITS));
  }
  if (typeof value === 'string') {
    if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(value.trim()))
      throw new RangeError(`${what}: "${value}" is not a decimal number`);
    return new Exact(value.trim());
  }
  return value;
}

/**
 * An exact decimal as plain text without exponent or trailing zeros (`"0.00000001"`, `"30000.5"`): how an exact
 * amount travels between modules (`Order.exact`, `Fill.exact`, `VenueFill.exact`), into the store and on the API.
 */
export type DecimalText = string;

/** An exact value as a plain decimal string without exponent or trailing zeros (`"0.00000001"`, `"30000.5"`). */
export function decimalText(value: Exact): DecimalText {
  return value.toFixed();
}

/** The decimal text of a value given as a number (read at 15 significant digits), a decimal string or an Exact. */
export function decimalTextOf(value: number | string | Exact, what = 'amount'): DecimalText {
  return exact(value, what).toFixed();
}

/** An exact value as the nearest double, for the parts of the platform that compute in doubles. */
export function toDouble(value: Exact): number {
  return value.toNumber();
}

/** How a value is brought onto a step grid: toward −∞, toward +∞, toward zero, or to the nearest (ties to even). */
export type StepRounding = 'floor' | 'ceil' | 'toward_zero' | 'nearest';

const ROUNDING: Record<StepRounding, Decimal.Rounding> = {
  floor: Decimal.ROUND_FLOOR,
  ceil: Decimal.ROUND_CEIL,
  toward_zero: Decimal.ROUND_DOWN,
  nearest: Decimal.ROUND_HALF_EVEN,
};

/** `value` as a whole multiple of `step`, rounded the given way (exact: no float step arithmetic). */
export function quantise(value: Exact, step: Exact, rounding: StepRounding): Exact {
  return value.toNearest(step, ROUNDING[rounding]);
}

/** What a price is used for; decides its rounding direction (docs/money.md, "Quantisation"). */
export type PricePurpose = 'limit' | 'stop' | 'fill';

/**
 * The rounding rule of docs/money.md: a limit price rounds to the passive side (a buy down, a sell up: never
 * pays more or receives less than asked); a stop trigger rounds away from the market (a buy up, a sell down: never
 * triggers before the asked level); a fill price — what the venue reports — rounds to the nearest tick, ties to
 * even, so float noise (`100.00999999999999`) lands on the tick it stands for.
 */
export function priceRounding(side: OrderSide, purpose: PricePurpose): StepRounding {
  if (purpose === 'fill') return 'nearest';
  if (purpose === 'limit') return side === 'buy' ? 'floor' : 'ceil';
  return side === 'buy' ? 'ceil' : 'floor';
}

/** The instrument's tick and lot as exact decimals (cached per instrument object). */
export interface ExactSteps {
  tick: Exact;
  lot: Exact;
  multiplier: Exact;
}

const stepsCache = new WeakMap<Instrument, ExactSteps>();

/** The exact tick, lot and multiplier of an instrument. */
export function exactSteps(inst: Instrument): ExactSteps {
  let s = stepsCache.get(inst);
  if (s === undefined) {
    s = {
      tick: exact(inst.tickSize, `${inst.symbol} tickSize`),
      lot: exact(inst.lotSize, `${inst.symbol} lotSize`),
      multiplier: exact(inst.multiplier, `${inst.symbol} multiplier`),
    };
    stepsCache.set(inst, s);
  }
  return s;
}

/** A price on the instrument's tick grid, rounded by side and purpose (docs/money.md). */
export function quantisePrice(
  inst: Instrument,
  price: number | string | Exact,
  side: OrderSide,
  purpose: PricePurpose,
): Exact {
  return quantise(exact(price, `${inst.symbol} price`), exactSteps(inst).tick, priceRounding(side, purpose));
}

/** A quantity on the instrument's lot grid, always toward zero: never more than asked or than was executed. */
export function quantiseQuantity(inst: Instrument, quantity: number | string | Exact): Exact {
  return quantise(exact(quantity, `${inst.symbol} quantity`), exactSteps(inst).lot, 'toward_zero');
}
