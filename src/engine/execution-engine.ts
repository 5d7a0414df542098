import type { EventBus, EventMap, EventName } from '../core/events.js';
import type { ExactExecution, Liquidity } from '../core/fill.js';
import { decimalText, type Exact, exact as exactOf } from '../core/money.js';
import {
  isOpen,
  isTerminal,
  type Order,
  type OrderDecimals,
  type OrderIntent,
  statusIndex,
  transitionOrder,
  validateIntent,
} from '../core/order.js';
import type { Clock } from './clock.js';
import type { ExecutionVenue, VenueListener } from './execution-venue.js';

// tsx (how the CLI and the benches run TypeScript) compiles each use of an imported function to a getter call; the
// per-order path calls these module-level copies instead (the getters showed in the backtest bench's CPU profile).
const checkIntent = validateIntent;
const moveOrder = transitionOrder;
const terminal = isTerminal;
const openStatus = isOpen;
const indexOfStatus = statusIndex;

/** Receives what happened to orders, after the execution engine has updated their state. */
export interface ExecutionSink {
  /** Any state change (submitted, accepted, partially filled, filled, cancelled, rejected, expired). */
  onOrderUpdate(order: Order): void;
  /**
   * One execution, already applied to the order's filled quantity and average price. `exact` (paper and live) is the
   * same execution in exact decimals, to be booked instead of the doubles.
   */
  onOrderFill(
    order: Order,
    price: number,
    quantity: number,
    fee: number,
    liquidity: Liquidity,
    time: number,
    executed?: number,
    exact?: ExactExecution,
  ): void;
  /** Why the execution cannot happen, or null (asked by simulated venues before each fill). */
  checkFill(order: Order, price: number, quantity: number, fee: number): string | null;
}

/** A budget of venue requests (e.g. IG's 30/min); when it says no, the order is rejected, not queued. */
export interface RequestBudget {
  tryAcquire(now: number): boolean;
}

// The event of each status, in statusIndex order (read by index: see statusIndex).
const ORDER_EVENT: readonly EventName[] = [
  'order.submitted.v1', // new
  'order.submitted.v1', // submitted
  'order.accepted.v1',
  'order.partially_filled.v1',
  'order.filled.v1',
  'order.cancelled.v1',
  'order.rejected.v1',
  'order.expired.v1',
];

/**
 * Order lifecycle owner: turns accepted intents into orders, enforces the order state machine, makes placement
 * idempotent by client order id (an id seen before returns the existing order and places nothing), tracks
 * partial fills and open orders, applies the venue request budget and stale-order timers. It is the only
 * component that calls the venue's order methods.
 */
export class ExecutionEngine implements VenueListener {
  private readonly byClientId = new Map<string, Order>();
  // Open orders in placement order; lookups by id scan it (a handful of orders, cheaper than a map per order).
  private readonly open: Order[] = [];
  private seq = 0;
  private budget: RequestBudget | null = null;
  private staleBuyMs = 0;
  private staleSellMs = 0;
  /** Orders created (every accepted intent, whatever became of it). */
  ordersCreated = 0;
  /** Placements skipped because their client order id was already used. */
  duplicatesIgnored = 0;
  /** True once a stale-order timeout is set: a plain field the per-bar loop reads before `timersActive`. */
  timersArmed = false;

  constructor(
    private readonly venue: ExecutionVenue,
    private readonly clock: Clock,
    private readonly bus: EventBus,
    private readonly sink: ExecutionSink,
    private readonly idPrefix = 'o',
  ) {}

  /** Connects the venue; `symbols` fixes the symbol index order both sides use. */
  attach(symbols: readonly string[]): void {
    this.venue.attach(this, symbols);
  }

  /** Sets (or clears) the venue request budget. */
  setRequestBudget(budget: RequestBudget | null): void {
    this.budget = budget;
  }

  /** Cancels open buy orders older than `buyMs` and sells older than `sellMs` (0 = never) in `checkTimers`. */
  setStaleOrderTimeouts(buyMs: number, sellMs: number): void {
    this.staleBuyMs = buyMs;
    this.staleSellMs = sellMs;
    this.timersArmed = buyMs > 0 || sellMs > 0;
  }

  /** True when stale-order timers are configured and some order is open (cheap per-bar guard). */
  get timersActive(): boolean {
    return (this.staleBuyMs > 0 || this.staleSellMs > 0) && this.open.length > 0;
  }

  /** Cancels open orders whose age exceeds their side's stale timeout. */
  checkTimers(now: number): void {
    for (let k = this.open.length - 1; k >= 0; k--) {
      const o = this.open[k];
      if (o === undefined) continue;
      const limit = o.side === 'buy' ? this.staleBuyMs : this.staleSellMs;
      if (limit > 0 && now - o.createdAt >= limit) this.cancel(o.id, 'STALE_ORDER');
    }
  }

  /**
   * Places an intent (already accepted by risk). Returns the order; a repeated client order id returns the
   * existing order without placing anything. `atPrice` asks a simulated venue to execute now at that price.
   */
  submit(intent: OrderIntent, atPrice?: number): Order {
    if (intent.clientOrderId !== undefined) {
      const existing = this.byClientId.get(intent.clientOrderId);
      if (existing !== undefined) {
        this.duplicatesIgnored++;
        return existing;
      }
    }
    checkIntent(intent);
    const now = this.clock.now();
    const id = `${this.idPrefix}${++this.seq}`;
    const clientOrderId = intent.clientOrderId ?? id;
    const order: Order = {
      id,
      clientOrderId,
      strategyId: intent.strategyId,
      symbol: intent.symbol,
      side: intent.side,
      type: intent.type,
      quantity: intent.quantity,
      price: intent.price,
      stopPrice: intent.stopPrice,
      timeInForce: intent.timeInForce ?? 'GTC',
      reduceOnly: intent.reduceOnly ?? false,
      status: 'new',
      filledQuantity: 0,
      averageFillPrice: 0,
      fees: 0,
      createdAt: now,
      updatedAt: now,
      signalTime: intent.signalTime,
      tag: intent.tag,
      source: intent.source ?? 'strategy',
      correlationId: intent.correlationId ?? id,
    };
    this.ordersCreated++;
    // Only caller-chosen ids can repeat; generated ones are unique by construction.
    if (intent.clientOrderId !== undefined) this.byClientId.set(clientOrderId, order);
    if (this.budget !== null && !this.budget.tryAcquire(now)) {
      moveOrder(order, 'rejected', now, 'VENUE_RATE_LIMIT');
      this.changed(order);
      return order;
    }
    moveOrder(order, 'submitted', now);
    this.open.push(order);
    this.changed(order);
    this.venue.submit(order, atPrice);
    return order;
  }

  /**
   * Tracks an open order of an earlier run (restored by startup reconciliation and claimed by its strategy) as one
   * of this run's: cancels, the kill switch, stale-order timers and `openOrders` reach it.
   */
  adopt(order: Order): void {
    if (!openStatus(order.status) || this.open.includes(order)) return;
    this.open.push(order);
  }

  /** Asks the venue to cancel an open order; unknown or finished orders are ignored. */
  cancel(orderId: string, reason: string): void {
    const o = this.getOrder(orderId);
    if (o === undefined || !openStatus(o.status)) return;
    this.venue.cancel(o, reason);
  }

  /** Cancels every open order (of one symbol when given). */
  cancelAll(reason: string, symbol?: string): number {
    let n = 0;
    for (let k = this.open.length - 1; k >= 0; k--) {
      const o = this.open[k];
      if (o !== undefined && (symbol === undefined || o.symbol === symbol)) {
        this.venue.cancel(o, reason);
        n++;
      }
    }
    return n;
  }

  /** An open order by id (finished orders are not kept). */
  getOrder(id: string): Order | undefined {
    const open = this.open;
    for (let k = 0; k < open.length; k++) if (open[k].id === id) return open[k];
    return undefined;
  }

  /** An order by the client id its intent gave (generated ids: use getOrder). */
  getByClientId(clientOrderId: string): Order | undefined {
    return this.byClientId.get(clientOrderId) ?? this.getOrder(clientOrderId);
  }

  /** Open orders (live array; do not mutate). */
  openOrders(): readonly Order[] {
    return this.open;
  }

  /** Number of open orders, optionally of one strategy and symbol. */
  openOrderCount(strategyId?: string, symbol?: string): number {
    if (strategyId === undefined && symbol === undefined) return this.open.length;
    let n = 0;
    for (const o of this.open) {
      const mine = strategyId === undefined || o.strategyId === strategyId;
      if (mine && (symbol === undefined || o.symbol === symbol)) n++;
    }
    return n;
  }

  // ---- VenueListener ----

  onAccepted(order: Order, time: number): void {
    if (order.status !== 'submitted') return;
    moveOrder(order, 'accepted', time);
    this.changed(order);
  }

  onFill(
    order: Order,
    price: number,
    quantity: number,
    fee: number,
    liquidity: Liquidity,
    time: number,
    booked = quantity,
    exact?: ExactExecution,
  ): void {
    let full: boolean;
    if (exact === undefined) {
      const filledBefore = order.filledQuantity;
      const filled = filledBefore + quantity;
      order.averageFillPrice = (order.averageFillPrice * filledBefore + price * quantity) / filled;
      order.filledQuantity = filled;
      order.fees += fee;
      full = filled >= order.quantity * (1 - 1e-12);
    } else full = addExactFill(order, exact);
    if (terminal(order.status)) {
      // A venue fill after we saw the order finish: the money moved, so book it and say so loudly.
      if (this.bus.hasSubscribers('venue.message.v1')) {
        this.publish('venue.message.v1', time, order.correlationId, {
          venue: this.venue.id,
          orderId: order.id,
          clientOrderId: order.clientOrderId,
          message: `fill after terminal state ${order.status}`,
        });
      }
    } else {
      moveOrder(order, full ? 'filled' : 'partially_filled', time);
      if (full) this.removeOpen(order);
    }
    this.sink.onOrderFill(order, price, booked, fee, liquidity, time, quantity, exact);
    this.changed(order);
  }

  onCancelled(order: Order, reason: string, time: number): void {
    if (terminal(order.status)) return;
    moveOrder(order, 'cancelled', time, reason);
    this.removeOpen(order);
    this.changed(order);
  }

  onRejected(order: Order, reason: string, time: number): void {
    if (terminal(order.status)) return;
    // Once working (accepted / partly filled) an order can only be cancelled, per the state machine.
    moveOrder(order, order.status === 'submitted' || order.status === 'new' ? 'rejected' : 'cancelled', time, reason);
    this.removeOpen(order);
    this.changed(order);
  }

  checkFill(order: Order, price: number, quantity: number, fee: number): string | null {
    return this.sink.checkFill(order, price, quantity, fee);
  }

  // Finished orders are forgotten (only caller-chosen client ids are remembered, for idempotency): a long
  // backtest then keeps no order objects alive and the garbage collector has nothing to promote.
  private removeOpen(order: Order): void {
    const open = this.open;
    // Usually the newest order finishes first: pop it without a search and a splice.
    if (open.length > 0 && open[open.length - 1] === order) {
      open.pop();
      return;
    }
    const k = open.indexOf(order);
    if (k >= 0) open.splice(k, 1);
  }

  private changed(order: Order): void {
    const name = ORDER_EVENT[indexOfStatus(order.status)];
    if (this.bus.hasSubscribers(name)) {
      this.publish(name, order.updatedAt, order.correlationId, { order } as EventMap[typeof name]);
    }
    this.sink.onOrderUpdate(order);
  }

  private publish<N extends EventName>(name: N, time: number, correlationId: string, payload: EventMap[N]): void {
    this.bus.publish({ name, time, correlationId, source: 'execution', payload });
  }
}

/** The order's exact decimals, started from its doubles (read at 15 digits) when nobody set them yet. */
export function orderDecimals(order: Order): OrderDecimals {
  let x = order.exact;
  if (x === undefined) {
    // A new order (every placement) has nothing filled: its zeros need no decimal reading.
    const text = (v: number, what: string) => (v === 0 ? '0' : decimalText(exactOf(v, what)));
    x = {
      quantity: decimalText(exactOf(order.quantity, 'order quantity')),
      filledQuantity: text(order.filledQuantity, 'order filled quantity'),
      averageFillPrice: text(order.averageFillPrice, 'order average fill price'),
      fees: text(order.fees, 'order fees'),
    };
    if (order.price !== undefined) x.price = decimalText(exactOf(order.price, 'order price'));
    if (order.stopPrice !== undefined) x.stopPrice = decimalText(exactOf(order.stopPrice, 'order stop price'));
    order.exact = x;
  }
  return x;
}

/**
 * Paper and live: adds one execution to the order's exact running sums — filled quantity, average price
 * (Σ price × quantity / Σ quantity) and fees — and reads the doubles from them. True when the exact sum has reached
 * the exact order quantity (no epsilon: ten fills of 0.1 complete an order of 1).
 */
function addExactFill(order: Order, fill: ExactExecution): boolean {
  const x = orderDecimals(order);
  const before = exactOf(x.filledQuantity, 'order filled quantity');
  const filled = before.plus(fill.executed);
  const notionalBefore =
    x.notional !== undefined
      ? exactOf(x.notional, 'order notional')
      : exactOf(x.averageFillPrice, 'order average fill price').mul(before);
  const notional = notionalBefore.plus(fill.price.mul(fill.executed));
  const avg = filled.isZero() ? exactOf(x.averageFillPrice, 'order average fill price') : notional.div(filled);
  const fees = exactOf(x.fees, 'order fees').plus(fill.fee);
  setOrderFills(order, filled, notional, avg, fees);
  return filled.gte(exactOf(x.quantity, 'order quantity'));
}

/**
 * Sets an order's filled quantity, Σ price × quantity, average fill price and fees: the exact texts, and the doubles
 * read from them (the execution engine after a fill, reconciliation after re-summing stored fills).
 */
export function setOrderFills(order: Order, filled: Exact, notional: Exact, average: Exact, fees: Exact): void {
  const x = orderDecimals(order);
  x.notional = decimalText(notional);
  x.filledQuantity = decimalText(filled);
  x.averageFillPrice = decimalText(average);
  x.fees = decimalText(fees);
  order.filledQuantity = filled.toNumber();
  order.averageFillPrice = average.toNumber();
  order.fees = fees.toNumber();
}
