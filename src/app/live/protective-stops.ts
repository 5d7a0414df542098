/**
 * Protective stops kept on the venue (RISK-3): while a long position is open and the deployment has `stopLoss`,
 * a stop order for the whole position rests on the venue, so the position is protected even while we are down.
 * Placed and cancelled through the engine's order path (never a direct venue call).
 */
import { roundPrice } from '../../core/instrument.js';
import type { Order } from '../../core/order.js';
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

  /** Brings the stop of `symbol` in line with its position; returns the stop order placed, if any. */
  sync(symbol: string): Order | null {
    const e = this.engine;
    const s = e.portfolio.indexOf(symbol);
    if (s < 0) return null;
    const q = e.portfolio.qty[s];
    const stop = this.bridge.protectiveStop(symbol);
    if (q <= EPS) {
      if (stop) this.cancel(stop, 'position_closed');
      return null;
    }
    if (stop && Math.abs(stop.quantity - stop.filledQuantity - q) <= EPS * q) return null;
    // A pending exit of this symbol will cancel the stop itself; do not fight it.
    for (const o of e.exec.openOrders()) {
      if (o.symbol === symbol && o.side === 'sell' && o.tag !== PROTECTIVE_STOP_TAG) return null;
    }
    if (stop) this.cancel(stop, 'resize');
    const inst = e.instruments[s];
    const stopPrice = roundPrice(inst, e.portfolio.avg[s] * (1 - this.stopLoss), 'down');
    const order = e.submitIntent({
      strategyId: e.strategyId,
      symbol,
      side: 'sell',
      type: 'stop',
      stopPrice,
      quantity: q,
      source: 'exit',
      tag: PROTECTIVE_STOP_TAG,
    });
    if (order !== null) this.placed++;
    return order;
  }

  private cancel(stop: Order, reason: string): void {
    if (this.engine.exec.getOrder(stop.id) === stop) this.engine.cancelOrder(stop.id, reason);
    else this.bridge.cancel(stop, reason);
  }
}
