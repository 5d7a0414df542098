import { IllegalTransitionError, ValidationError } from './errors.js';

/** Buy or sell. */
export type OrderSide = 'buy' | 'sell';
/** Supported order types. */
export type OrderType = 'market' | 'limit' | 'stop' | 'stop_limit';
/** Time in force. */
export type TimeInForce = 'GTC' | 'IOC' | 'FOK' | 'DAY';
/** Order lifecycle states. */
export type OrderStatus =
  | 'new'
  | 'submitted'
  | 'accepted'
  | 'partially_filled'
  | 'filled'
  | 'cancelled'
  | 'rejected'
  | 'expired';

/** Where an order came from; every source goes through the same risk path. */
export type OrderSource = 'strategy' | 'manual' | 'llm' | 'telegram' | 'mcp' | 'kill_switch' | 'exit' | 'reconcile';

/**
 * What a strategy (or a person) wants: not yet an order. It becomes one only after RiskEngine.check accepts it.
 */
export interface OrderIntent {
  strategyId: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  quantity: number;
  /** Limit price (limit, stop_limit). */
  price?: number;
  /** Trigger price (stop, stop_limit). */
  stopPrice?: number;
  timeInForce?: TimeInForce;
  /** Only reduces an existing position; never blocked by exposure limits. */
  reduceOnly?: boolean;
  /** Caller-chosen id; the execution engine accepts each id once (idempotency). */
  clientOrderId?: string;
  /** Time of the bar/tick that produced the signal (duplicate-signal prevention). */
  signalTime?: number;
  /** Free-form entry tag carried to the trade record. */
  tag?: string;
  source?: OrderSource;
  /** Correlation id tying the signal, risk decision, venue messages and fills together. */
  correlationId?: string;
}

/**
 * The exact decimals of an order (docs/money.md) as decimal text, set on the paper and live paths only (a backtest
 * leaves `Order.exact` undefined and allocates nothing). The doubles beside them are their nearest readings.
 */
export interface OrderDecimals {
  /** The quantity sent to the venue, on the lot. */
  quantity: string;
  /** The limit price sent, on the tick. */
  price?: string;
  /** The stop trigger sent, on the tick. */
  stopPrice?: string;
  /** The exact sum of the executed quantities. */
  filledQuantity: string;
  /** Σ price × quantity / Σ quantity of the fills (the division rounds at the 40th significant digit). */
  averageFillPrice: string;
  /**
   * Σ price × quantity of the fills, exact: the average is always one division of it, never a running rounding.
   * Absent on an order read from the store (not stored): then taken as average × filled quantity.
   */
  notional?: string;
  /** The exact sum of the fees in quote currency. */
  fees: string;
}

/** A live order tracked by the execution engine. Mutated only through `transitionOrder`. */
export interface Order {
  id: string;
  clientOrderId: string;
  venueOrderId?: string;
  strategyId: string;
  symbol: string;
  side: OrderSide;
  type: OrderType;
  quantity: number;
  price?: number;
  stopPrice?: number;
  timeInForce: TimeInForce;
  reduceOnly: boolean;
  status: OrderStatus;
  filledQuantity: number;
  averageFillPrice: number;
  fees: number;
  createdAt: number;
  updatedAt: number;
  signalTime?: number;
  tag?: string;
  source: OrderSource;
  correlationId: string;
  /** Why the order was rejected/cancelled, when it was. */
  reason?: string;
  /** The exact decimals (paper and live); undefined in a backtest. */
  exact?: OrderDecimals;
}

/** The states an order may move to from each state. Terminal states have none. */
export const ORDER_TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  new: ['submitted', 'rejected'],
  submitted: ['accepted', 'rejected', 'partially_filled', 'filled', 'cancelled', 'expired'],
  accepted: ['partially_filled', 'filled', 'cancelled', 'expired'],
  partially_filled: ['partially_filled', 'filled', 'cancelled', 'expired'],
  filled: [],
  cancelled: [],
  rejected: [],
  expired: [],
};

/** True when no further transition is possible. */
export function isTerminal(status: OrderStatus): boolean {
  // The four states with no way out in ORDER_TRANSITIONS, compared directly (called on every fill).
  return status === 'filled' || status === 'cancelled' || status === 'rejected' || status === 'expired';
}

/** True when the order may still fill. */
export function isOpen(status: OrderStatus): boolean {
  return status === 'submitted' || status === 'accepted' || status === 'partially_filled';
}

/**
 * A status's position in ORDER_TRANSITIONS (0-7). A switch over the eight names compiles to a few pointer compares;
 * a keyed read of a table by a status that varies is a megamorphic lookup, which showed in the backtest's profile
 * (two per order).
 */
export function statusIndex(status: OrderStatus): number {
  switch (status) {
    case 'new':
      return 0;
    case 'submitted':
      return 1;
    case 'accepted':
      return 2;
    case 'partially_filled':
      return 3;
    case 'filled':
      return 4;
    case 'cancelled':
      return 5;
    case 'rejected':
      return 6;
    default:
      return 7;
  }
}

// ORDER_TRANSITIONS as one bit mask per state, by statusIndex (bit `statusIndex(to)` set when the move is legal).
const TRANSITION_MASKS = new Uint8Array(8);
for (const [from, tos] of Object.entries(ORDER_TRANSITIONS) as [OrderStatus, readonly OrderStatus[]][]) {
  for (const to of tos) TRANSITION_MASKS[statusIndex(from)] |= 1 << statusIndex(to);
}

/** Whether `from -> to` is a legal move. */
export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return ((TRANSITION_MASKS[statusIndex(from)] >> statusIndex(to)) & 1) === 1;
}

/** Moves an order to `to`, throwing IllegalTransitionError for a move the state machine forbids. */
export function transitionOrder(order: Order, to: OrderStatus, time: number, reason?: string): Order {
  if (!canTransition(order.status, to)) throw new IllegalTransitionError(order.id, order.status, to);
  order.status = to;
  order.updatedAt = time;
  if (reason !== undefined) order.reason = reason;
  return order;
}

/** Checks an intent's fields are coherent (prices present for their types, positive quantity). */
export function validateIntent(intent: OrderIntent): void {
  if (!intent.symbol) throw new ValidationError('order symbol is required', 'symbol');
  if (intent.side !== 'buy' && intent.side !== 'sell') throw new ValidationError(`bad side "${intent.side}"`, 'side');
  if (!(intent.quantity > 0) || !Number.isFinite(intent.quantity)) {
    throw new ValidationError(`order quantity must be a positive number, got ${intent.quantity}`, 'quantity');
  }
  const needsPrice = intent.type === 'limit' || intent.type === 'stop_limit';
  const needsStop = intent.type === 'stop' || intent.type === 'stop_limit';
  if (needsPrice && !(intent.price !== undefined && intent.price > 0)) {
    throw new ValidationError(`${intent.type} order needs a positive price`, 'price');
  }
  if (needsStop && !(intent.stopPrice !== undefined && intent.stopPrice > 0)) {
    throw new ValidationError(`${intent.type} order needs a positive stopPrice`, 'stopPrice');
  }
  const type = intent.type;
  if (type !== 'market' && type !== 'limit' && type !== 'stop' && type !== 'stop_limit') {
    throw new ValidationError(`bad order type "${intent.type}"`, 'type');
  }
}

/** +1 for buy, -1 for sell. */
export function sideSign(side: OrderSide): 1 | -1 {
  return side === 'buy' ? 1 : -1;
}
