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
}
