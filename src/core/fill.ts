import { decimalText, exact, type Money, type Quantity } from './money.js';
import type { OrderSide } from './order.js';

/** Whether a fill added liquidity (maker) or took it (taker). */
export type Liquidity = 'maker' | 'taker';

/**
 * The exact decimals of a fill (docs/money.md) as decimal text, set on the paper and live paths only: what the venue
 * sent, read on the instrument's grid. The doubles of the fill are their nearest readings.
 */
export interface FillDecimals {
  price: string;
  quantity: string;
  fee: string;
  /** Present when `Fill.executedQuantity` is. */
  executedQuantity?: string;
}

/**
 * A venue execution in exact terms, as the live bridge read it (`exactFillOf`) and as the execution engine and the
 * portfolio book it on the paper and live paths.
 */
export interface ExactExecution {
  /** The fill price on the instrument's tick (nearest, ties to even). */
  price: Money;
  /** What the venue executed, on the lot (toward zero): the order advances by it. */
  executed: Quantity;
  /** What the account was credited: `executed`, less a fee a spot buy pays in the base asset, in whole lots. */
  booked: Quantity;
  /** The fee in quote currency (a fee in the base asset valued at the fill price). */
  fee: Money;
}

/** An exact execution as the decimal text a Fill carries (`executedQuantity` only when it differs from `booked`). */
export function fillDecimals(x: ExactExecution): FillDecimals {
  const out: FillDecimals = { price: decimalText(x.price), quantity: decimalText(x.booked), fee: decimalText(x.fee) };
  if (!x.executed.eq(x.booked)) out.executedQuantity = decimalText(x.executed);
  return out;
}

/** A fill's exact decimals as an execution to book (undefined when the fill carries none: a backtest's). */
export function exactExecutionOf(f: Readonly<Fill>): ExactExecution | undefined {
  const x = f.exact;
  if (x === undefined) return undefined;
  const booked = exact(x.quantity, `fill ${f.id} quantity`);
  return {
    price: exact(x.price, `fill ${f.id} price`),
    booked,
    executed: x.executedQuantity === undefined ? booked : exact(x.executedQuantity, `fill ${f.id} executed quantity`),
    fee: exact(x.fee, `fill ${f.id} fee`),
  };
}

/** One execution of (part of) an order. */
export interface Fill {
  id: string;
  orderId: string;
  clientOrderId: string;
  strategyId: string;
  symbol: string;
  side: OrderSide;
  price: number;
  quantity: number;
  /** Fee in quote currency. */
  fee: number;
  liquidity: Liquidity;
  time: number;
  venueTradeId?: string;
  correlationId?: string;
  /**
   * What the venue executed, when more than `quantity` was executed than credited (a spot buy whose fee is taken in
   * the base asset: `quantity` is what the account received, in whole lots). Absent when the two are equal.
   */
  executedQuantity?: number;
  /** The exact decimals (paper and live); undefined in a backtest. */
  exact?: FillDecimals;
}

/**
 * One fill as a result lists it (backtest JSON, CSV and HTML): the execution plus the order's type and tag, so
 * a reader sees what kind of order filled where without the order book.
 */
export interface FillRecord {
  /** Epoch ms. */
  time: number;
  symbol: string;
  side: OrderSide;
  price: number;
  quantity: number;
  /** Fee in quote currency. */
  fee: number;
  orderType: 'market' | 'limit' | 'stop' | 'stop_limit';
  /** The order's tag (entry tag, exit reason such as `stop_loss`, a grid level); null when none. */
  tag: string | null;
  liquidity: Liquidity;
}
