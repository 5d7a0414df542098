/**
 * Protective stops kept on the venue (RISK-3): while a long position is open and the deployment has `stopLoss`,
 * a stop order for the whole position rests on the venue, so the position is protected even while we are down.
 * Placed and cancelled through the engine's order path (never a direct venue call).
 */
import { roundPrice, roundQuantity } from '../../core/instrument.js';
import { isOpen, type Order } from '../../core/order.js';
import type { Engine } from '../../engine/engine.js';
import { type LiveVenueBridge, PROTECTIVE_STOP_TAG } from '../../venues/live/bridge.js';

const EPS = 1e-9;

/** Keeps one protective stop per symbol in line with the position. */
export class ProtectiveStops {
  /** Stops placed (or re-placed) since start. */
  placed = 0;

  constructor(
    private readonly engine: Engine,
    private readonly bridge: LiveVenueBridge,
    /** Fraction below the average entry price. */
    private readonly stopLoss: number,
  ) {}

  /**
   * Brings the stop of `symbol` in line with its position; returns the stop order placed, if any. The stop covers
   * the position less what resting exits (a take-profit) hold, rounded down to the lot: on a spot venue both lock the
   * base asset, so the stop can never be larger. A market exit in flight closes the position: nothing to do.
   */
  sync(symbol: string): Order | null {
    const e = this.engine;
    const s = e.portfolio.indexOf(symbol);
    if (s < 0) return null;
    const inst = e.instruments[s];
    const q = e.portfolio.qty[s];
    const stop = this.bridge.protectiveStop(symbol);
    let resting = 0;
    for (const o of e.exec.openOrders()) {
      if (o.symbol !== symbol || o.side !== 'sell' || o.tag === PROTECTIVE_STOP_TAG) continue;
      if (o.type === 'market') return null;
      resting += o.quantity - o.filledQuantity;
    }
    const want = roundQuantity(inst, Math.max(0, q - resting));
    // Below one lot (dust after fees) nothing can be sold: no stop to keep.
    if (q <= EPS || want < inst.minQty - EPS) {
      if (stop) this.cancel(stop, q <= EPS ? 'position_closed' : 'covered_by_exit');
      return null;
    }
    if (stop && Math.abs(stop.quantity - stop.filledQuantity - want) <= EPS * Math.max(1, want)) return null;
    if (stop) this.cancel(stop, 'resize');
    const stopPrice = roundPrice(inst, e.portfolio.avg[s] * (1 - this.stopLoss), 'down');
    const order = e.submitIntent({
      strategyId: e.strategyId,
      symbol,
      side: 'sell',
      type: 'stop',
      stopPrice,
      quantity: want,
      source: 'exit',
      tag: PROTECTIVE_STOP_TAG,
    });
    if (order !== null) this.placed++;
    return order;
  }

  /**
   * Whether the symbol's position is covered on the venue right now: a protective stop plus resting exits hold at
   * least the sellable position (or a market exit is closing it). Tests and status use it.
   */
  covered(symbol: string): boolean {
    const e = this.engine;
    const s = e.portfolio.indexOf(symbol);
    if (s < 0) return true;
    const inst = e.instruments[s];
    const sellable = roundQuantity(inst, e.portfolio.qty[s]);
    if (sellable < inst.minQty - EPS) return true;
    let held = 0;
    const stop = this.bridge.protectiveStop(symbol);
    if (stop && isOpen(stop.status)) held += stop.quantity - stop.filledQuantity;
    for (const o of e.exec.openOrders()) {
      if (o.symbol !== symbol || o.side !== 'sell' || o.tag === PROTECTIVE_STOP_TAG) continue;
      if (o.type === 'market') return true;
      held += o.quantity - o.filledQuantity;
    }
    return held >= sellable - EPS;
  }

  private cancel(stop: Order, reason: string): void {
    if (this.engine.exec.getOrder(stop.id) === stop) this.engine.cancelOrder(stop.id, reason);
    else this.bridge.cancel(stop, reason);
  }
}
