import type { OrderSide } from './order.js';

/** Whether a fill added liquidity (maker) or took it (taker). */
export type Liquidity = 'maker' | 'taker';

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
