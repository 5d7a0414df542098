import type { OrderSide, OrderType } from '../core/order.js';
import type { RiskActions } from '../core/risk-port.js';

/** Default minutes an unfilled order may rest before it is cancelled (RISK-5). */
export const DEFAULT_STALE_ORDER_MINUTES = { buy: 10, sell: 30 } as const;

/** The fields of an order the stale-order timer needs. */
export interface TrackedOrder {
  id: string;
  side: OrderSide;
  type: OrderType;
  createdAt: number;
  reduceOnly?: boolean;
}

const NONE: readonly string[] = [];

/**
 * Stale-order timers: an open limit order older than its side's limit is cancelled through the execution engine
 * (RiskActions.cancelOrder). Stop and stop-limit orders are protective and never expire here: cancelling a
 * resting stop-loss would leave a position unprotected.
 */
export class StaleOrderTracker {
  private readonly deadlines = new Map<string, number>();

  constructor(readonly minutes: { buy: number; sell: number } = DEFAULT_STALE_ORDER_MINUTES) {
    if (!(minutes.buy > 0) || !(minutes.sell > 0)) {
      throw new RangeError(`stale order minutes must be > 0: buy ${minutes.buy}, sell ${minutes.sell}`);
    }
  }

  /**
   * Starts the timer of an open order; `minutes` overrides the tracker's (per-strategy settings). Returns false
   * when the order type is not timed (stop, stop_limit).
   */
  track(order: TrackedOrder, minutes: { buy: number; sell: number } = this.minutes): boolean {
    if (order.type === 'stop' || order.type === 'stop_limit') return false;
    const ttl = order.side === 'buy' ? minutes.buy : minutes.sell;
    this.deadlines.set(order.id, order.createdAt + ttl * 60_000);
    return true;
  }

  /** Stops the timer (order filled, cancelled, rejected or expired). */
  untrack(orderId: string): void {
    this.deadlines.delete(orderId);
  }

  /** Number of orders under a timer. */
  get size(): number {
    return this.deadlines.size;
  }

  /** The deadline (epoch ms) of a tracked order, or undefined. */
  deadline(orderId: string): number | undefined {
    return this.deadlines.get(orderId);
  }

  /**
   * Called on each engine time update: returns the ids whose deadline passed (now >= deadline), stops their
   * timers and, when `actions` is given, cancels each through the execution engine.
   */
  poll(now: number, actions?: RiskActions): readonly string[] {
    if (this.deadlines.size === 0) return NONE;
    let expired: string[] | undefined;
    for (const [id, deadline] of this.deadlines) {
      if (now >= deadline) (expired ??= []).push(id);
    }
    if (expired === undefined) return NONE;
    for (const id of expired) {
      const deadline = this.deadlines.get(id) ?? now;
      this.deadlines.delete(id);
      actions?.cancelOrder(id, `stale order: still open at its deadline ${new Date(deadline).toISOString()}`);
    }
    return expired;
  }
}
