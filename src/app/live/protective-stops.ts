/**
 * Protective stops kept on the venue (RISK-3): while a position is open and the deployment has `stopLoss`, a stop
 * order for the whole position rests on the venue, so the position is protected even while we are down. A long gets
 * a sell stop below its entry; a short — which exists only on a venue that holds positions (futures, IG) — a buy stop
 * above it, sent reduce-only by the bridge. Placed and cancelled through the engine's order path (never a direct
 * venue call).
 */
import { type Instrument, roundPrice, roundQuantity } from '../../core/instrument.js';
import { isOpen, type Order, type OrderSide } from '../../core/order.js';
import type { Engine } from '../../engine/engine.js';
import { type LiveVenueBridge, PROTECTIVE_STOP_TAG } from '../../venues/live/bridge.js';

const EPS = 1e-9;

/**
 * The side of the order that closes a position of `qty` (sell for a long, buy for a short), or null when there is
 * nothing the venue can protect: flat, or a short on a venue without positions (a spot account cannot be short, and
 * a buy stop there would be an entry, never protection).
 */
export function protectiveSide(qty: number, holdsPositions: boolean): OrderSide | null {
  if (qty > EPS) return 'sell';
  if (qty < -EPS && holdsPositions) return 'buy';
  return null;
}

/**
 * The protective stop's trigger for a position that `side` closes, entered at `avg` with the fractional `stopLoss`:
 * below the entry for a long (rounded down), above it for a short (rounded up) — away from the market either way,
 * as the engine's own stop-loss level `avg × (1 ∓ stopLoss)`.
 */
export function protectiveStopPrice(inst: Instrument, side: OrderSide, avg: number, stopLoss: number): number {
  return side === 'sell'
    ? roundPrice(inst, avg * (1 - stopLoss), 'down')
    : roundPrice(inst, avg * (1 + stopLoss), 'up');
}

/** Keeps one protective stop per symbol in line with the position. */
export class ProtectiveStops {
  /** Stops placed (or re-placed) since start. */
  placed = 0;

  constructor(
    private readonly engine: Engine,
    private readonly bridge: LiveVenueBridge,
    /** Fraction away from the average entry price (below a long, above a short). */
    private readonly stopLoss: number,
  ) {}

  /**
   * Brings the stop of `symbol` in line with its position; returns the stop order placed, if any. The stop covers
   * the position less what resting exits on the closing side (a take-profit) hold, rounded down to the lot: on a spot
   * venue both lock the base asset, so the stop can never be larger. A market exit in flight closes the position:
   * nothing to do. A stop on the wrong side (the position flipped) is cancelled and placed again on the right one.
   */
  sync(symbol: string): Order | null {
    const e = this.engine;
    const s = e.portfolio.indexOf(symbol);
    if (s < 0) return null;
    const inst = e.instruments[s];
    const q = e.portfolio.qty[s];
    const side = protectiveSide(q, this.bridge.holdsPositions);
    const stop = this.bridge.protectiveStop(symbol);
    let resting = 0;
    if (side !== null) {
      for (const o of e.exec.openOrders()) {
        if (o.symbol !== symbol || o.side !== side || o.tag === PROTECTIVE_STOP_TAG) continue;
        if (o.type === 'market') return null;
        resting += o.quantity - o.filledQuantity;
      }
    }
    const want = side === null ? 0 : roundQuantity(inst, Math.max(0, Math.abs(q) - resting));
    // Below one lot (dust after fees) nothing can be closed: no stop to keep.
    if (side === null || want < inst.minQty - EPS) {
      if (stop) this.cancel(stop, side !== null ? 'covered_by_exit' : 'position_closed');
      return null;
    }
    if (stop && stop.side === side && Math.abs(stop.quantity - stop.filledQuantity - want) <= EPS * Math.max(1, want))
      return null;
    if (stop) this.cancel(stop, stop.side === side ? 'resize' : 'position_flipped');
    const order = e.submitIntent({
      strategyId: e.strategyId,
      symbol,
      side,
      type: 'stop',
      stopPrice: protectiveStopPrice(inst, side, e.portfolio.avg[s], this.stopLoss),
      quantity: want,
      source: 'exit',
      tag: PROTECTIVE_STOP_TAG,
    });
    if (order !== null) this.placed++;
    return order;
  }

  /**
   * Whether the symbol's position is covered on the venue right now: a protective stop on the closing side plus
   * resting exits hold at least the closable position (or a market exit is closing it). Tests and status use it.
   */
  covered(symbol: string): boolean {
    const e = this.engine;
    const s = e.portfolio.indexOf(symbol);
    if (s < 0) return true;
    const inst = e.instruments[s];
    const q = e.portfolio.qty[s];
    const side = protectiveSide(q, this.bridge.holdsPositions);
    // A short on a venue without positions is not something a stop can cover: say uncovered, never "fine".
    if (side === null) return Math.abs(q) <= EPS;
    const closable = roundQuantity(inst, Math.abs(q));
    if (closable < inst.minQty - EPS) return true;
    let held = 0;
    const stop = this.bridge.protectiveStop(symbol);
    if (stop && stop.side === side && isOpen(stop.status)) held += stop.quantity - stop.filledQuantity;
    for (const o of e.exec.openOrders()) {
      if (o.symbol !== symbol || o.side !== side || o.tag === PROTECTIVE_STOP_TAG) continue;
      if (o.type === 'market') return true;
      held += o.quantity - o.filledQuantity;
    }
    return held >= closable - EPS;
  }

  private cancel(stop: Order, reason: string): void {
    if (this.engine.exec.getOrder(stop.id) === stop) this.engine.cancelOrder(stop.id, reason);
    else this.bridge.cancel(stop, reason);
  }
}
