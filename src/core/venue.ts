import type { Bar, OrderBook, Ticker } from './bar.js';
import type { Liquidity } from './fill.js';
import type { Instrument } from './instrument.js';
import type { OrderSide, OrderStatus, OrderType, TimeInForce } from './order.js';
import type { Balance, Position } from './position.js';
import type { Timeframe } from './timeframe.js';

/** What an adapter can do; the engine adapts (e.g. keeps stops locally when the venue has no stop orders). */
export interface VenueCapabilities {
  /** Native stop / stop-limit orders, so protective stops survive our outage (RISK-3). */
  stopOrders: boolean;
  modifyOrder: boolean;
  /** Push streams (WebSocket); otherwise REST polling. */
  streaming: boolean;
  /** Venue reports positions (margin/derivatives) rather than only balances (spot). */
  positions: boolean;
  /** Client order ids are honoured, so a placement can be looked up after a timeout. */
  clientOrderIds: boolean;
}

/** An order as sent to a venue. `clientOrderId` makes placement idempotent. */
export interface VenueOrderRequest {
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  quantity: number;
  price?: number;
  stopPrice?: number;
  timeInForce?: TimeInForce;
  reduceOnly?: boolean;
  /**
   * The same amounts as exact decimal text, already on the instrument's grid (the live bridge sets them): an adapter
   * sends these rather than re-deriving a decimal from the doubles.
   */
  exact?: { quantity: string; price?: string; stopPrice?: string };
}

/** An order as the venue reports it. */
export interface VenueOrder {
  venueOrderId: string;
  clientOrderId: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  status: OrderStatus;
  quantity: number;
  filledQuantity: number;
  averagePrice: number;
  price?: number;
  stopPrice?: number;
  createdAt: number;
  updatedAt: number;
  /** The decimal text the venue sent for the amounts, when the adapter had it (each field optional). */
  exact?: { quantity?: string; filledQuantity?: string; averagePrice?: string; price?: string; stopPrice?: string };
}

/** One execution as the venue reports it. */
export interface VenueFill {
  venueTradeId: string;
  venueOrderId: string;
  clientOrderId?: string;
  symbol: string;
  side: OrderSide;
  price: number;
  quantity: number;
  fee: number;
  feeCurrency: string;
  liquidity: Liquidity;
  time: number;
  /**
   * The decimal text the venue sent (ccxt's raw fields, IG's and IBKR's numbers as their decimal), when the adapter
   * had it; the live bridge reads these instead of the doubles (docs/money.md). Each field optional.
   */
  exact?: { price?: string; quantity?: string; fee?: string };
}

/** Refers to an order by the venue's id or ours. */
export interface OrderRef {
  symbol: string;
  venueOrderId?: string;
  clientOrderId?: string;
}

/** A live stream; `close` stops it. */
export interface Subscription {
  close(): void;
}

/**
 * The venue interface every adapter implements (VENUE-1): ccxt, IG, IBKR, paper.
 * Errors are VenueError with `retryable`. Only the ExecutionEngine may call the order methods.
 */
export interface Venue {
  readonly id: string;
  readonly capabilities: VenueCapabilities;
  connect(): Promise<void>;
  close(): Promise<void>;
  fetchInstruments(): Promise<Instrument[]>;
  fetchBalances(): Promise<Balance[]>;
  fetchPositions(): Promise<Position[]>;
  placeOrder(request: VenueOrderRequest): Promise<VenueOrder>;
  cancelOrder(ref: OrderRef): Promise<VenueOrder>;
  modifyOrder(ref: OrderRef, changes: { quantity?: number; price?: number; stopPrice?: number }): Promise<VenueOrder>;
  /** Looks an order up; null when the venue has never seen it (safe to place again). */
  fetchOrder(ref: OrderRef): Promise<VenueOrder | null>;
  fetchOpenOrders(symbol?: string): Promise<VenueOrder[]>;
  fetchFills(symbol?: string, since?: number): Promise<VenueFill[]>;
  fetchTicker(symbol: string): Promise<Ticker>;
  fetchCandles(symbol: string, timeframe: Timeframe, since?: number, limit?: number): Promise<Bar[]>;
  fetchOrderBook(symbol: string, depth?: number): Promise<OrderBook>;
  /** Venue server time in epoch ms (clock-drift guard, OPS-6). */
  fetchServerTime(): Promise<number>;
  watchTicker(symbol: string, onTicker: (t: Ticker) => void, onError?: (e: Error) => void): Subscription;
  watchCandles(
    symbol: string,
    timeframe: Timeframe,
    onBar: (b: Bar, closed: boolean) => void,
    onError?: (e: Error) => void,
  ): Subscription;
  watchOrderBook(symbol: string, onBook: (b: OrderBook) => void, onError?: (e: Error) => void): Subscription;
  watchOrders(onOrder: (o: VenueOrder) => void, onError?: (e: Error) => void): Subscription;
  watchFills(onFill: (f: VenueFill) => void, onError?: (e: Error) => void): Subscription;
}
