import type { Bar, OrderBook, Ticker } from './bar.js';
import { VenueError } from './errors.js';
import type { Liquidity } from './fill.js';
import type { Instrument } from './instrument.js';
import { type DecimalText, type Exact, exact, type Money, type Quantity } from './money.js';
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

/**
 * New terms of a working order (`Venue.modifyOrder`): each amount as exact decimal text or an exact value, never a
 * double (docs/money.md). The adapter puts them on its grid: the quantity toward zero onto the lot, a limit price to
 * the passive side of the tick, a stop trigger away from the market.
 */
export interface OrderChanges {
  quantity?: DecimalText | Quantity;
  price?: DecimalText | Money;
  stopPrice?: DecimalText | Money;
}

/** An order's new terms read as exact decimals; a text that is not a decimal throws a one-line RangeError naming it. */
export function exactChanges(changes: OrderChanges): { quantity?: Quantity; price?: Money; stopPrice?: Money } {
  const out: { quantity?: Exact; price?: Exact; stopPrice?: Exact } = {};
  if (changes.quantity !== undefined) out.quantity = exact(changes.quantity, 'modifyOrder quantity');
  if (changes.price !== undefined) out.price = exact(changes.price, 'modifyOrder price');
  if (changes.stopPrice !== undefined) out.stopPrice = exact(changes.stopPrice, 'modifyOrder stopPrice');
  return out;
}

/**
 * `exactChanges` at an adapter's edge: a term that is not a decimal is the caller's mistake, so it is a non-retryable
 * VenueError (`VENUE_INVALID_ORDER`) of venue `venueId`, its message prefixed by `who` (default the venue id).
 */
export function modificationTerms(
  changes: OrderChanges,
  venueId: string,
  who = venueId,
): ReturnType<typeof exactChanges> {
  try {
    return exactChanges(changes);
  } catch (err) {
    throw new VenueError(`${who}: ${err instanceof Error ? err.message : String(err)}`, {
      retryable: false,
      venue: venueId,
      code: 'VENUE_INVALID_ORDER',
      cause: err,
    });
  }
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
  /** Changes a working order's quantity, limit price or trigger (`capabilities.modifyOrder`), given exactly. */
  modifyOrder(ref: OrderRef, changes: OrderChanges): Promise<VenueOrder>;
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
