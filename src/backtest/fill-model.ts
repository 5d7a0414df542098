import type { Order, OrderSide } from '../core/order.js';
import type { BarLike } from '../engine/execution-venue.js';

/**
 * Where a resting buy limit executes on a bar: at the open when the bar opens at or below the limit (a better
 * price), at the limit when the low reaches it, otherwise not (NaN). Mirrored for a sell limit (open/high).
 */
export function limitFillPrice(side: OrderSide, limit: number, bar: BarLike): number {
  if (side === 'buy') {
    if (bar.open <= limit) return bar.open;
    return bar.low <= limit ? limit : Number.NaN;
  }
  if (bar.open >= limit) return bar.open;
  return bar.high >= limit ? limit : Number.NaN;
}

/**
 * Where a stop triggers and executes: a buy stop at the open when the bar gaps above it, at the stop when the
 * high reaches it; a sell stop at the open when the bar gaps below it, at the stop when the low reaches it.
 */
export function stopFillPrice(side: OrderSide, stop: number, bar: BarLike): number {
  if (side === 'buy') {
    if (bar.open >= stop) return bar.open;
    return bar.high >= stop ? stop : Number.NaN;
  }
  if (bar.open <= stop) return bar.open;
  return bar.low <= stop ? stop : Number.NaN;
}

/** Mutable per-order matching state (a stop-limit remembers that it has triggered). */
export interface RestingState {
  triggered: boolean;
}

/**
 * A stop-limit: once the stop triggers (see stopFillPrice) it becomes a limit order. On the trigger bar it
 * executes only if the trigger price itself is within the limit (at the trigger price); otherwise it rests
 * as a limit from the next bar.
 */
export function stopLimitFillPrice(
  side: OrderSide,
  stop: number,
  limit: number,
  bar: BarLike,
  state: RestingState,
): number {
  if (state.triggered) return limitFillPrice(side, limit, bar);
  const trigger = stopFillPrice(side, stop, bar);
  if (Number.isNaN(trigger)) return Number.NaN;
  state.triggered = true;
  return side === 'buy' ? (trigger <= limit ? trigger : Number.NaN) : trigger >= limit ? trigger : Number.NaN;
}

/** Decides at what price an order executes on a bar. Pure: reusable by a paper venue on live bars. */
export interface FillModel {
  /** Price of a market order on the bar it becomes executable on. */
  marketPrice(order: Order, bar: BarLike): number;
  /** Price of a resting limit/stop/stop-limit order on this bar, NaN when it does not execute. */
  restingPrice(order: Order, bar: BarLike, state: RestingState): number;
}

/**
 * Default fill model: market orders at the open of the bar after the signal; limit, stop and stop-limit by the
 * rules above (gaps fill at the open).
 */
export class BarFillModel implements FillModel {
  marketPrice(_order: Order, bar: BarLike): number {
    return bar.open;
  }

  restingPrice(order: Order, bar: BarLike, state: RestingState): number {
    switch (order.type) {
      case 'limit':
        return limitFillPrice(order.side, order.price!, bar);
      case 'stop':
        return stopFillPrice(order.side, order.stopPrice!, bar);
      case 'stop_limit':
        return stopLimitFillPrice(order.side, order.stopPrice!, order.price!, bar, state);
      default:
        return bar.open;
    }
  }
}

/** Caps how much of a bar's volume one symbol's orders may take (partial fills). */
export interface ParticipationModel {
  /** Largest total quantity that may execute on this bar (Infinity = no cap). */
  maxQuantity(bar: BarLike): number;
}

/** No cap: every order fills completely. */
export const NO_PARTICIPATION_CAP: ParticipationModel = { maxQuantity: () => Number.POSITIVE_INFINITY };

/** At most `rate` (e.g. 0.1 = 10%) of the bar's volume executes; the rest waits for later bars. */
export class VolumeParticipation implements ParticipationModel {
  constructor(readonly rate: number) {}

  maxQuantity(bar: BarLike): number {
    return bar.volume > 0 ? bar.volume * this.rate : 0;
  }
}
