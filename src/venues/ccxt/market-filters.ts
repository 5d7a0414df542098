/**
 * An exchange's order filters, read from the market ccxt loaded, checked before an order is sent: a violating order
 * is refused here with the filter's name, never sent (Binance would answer -1013 "Filter failure: ...").
 */
import type { Market } from 'ccxt';
import { type Instrument, roundToStep } from '../../core/index.js';

/** Binance's PERCENT_PRICE (one band) or PERCENT_PRICE_BY_SIDE (a band per side), as multipliers of the average price. */
export interface PercentPriceBand {
  /** `PERCENT_PRICE` or `PERCENT_PRICE_BY_SIDE`: named in the refusal. */
  filter: string;
  buyUp: number;
  buyDown: number;
  sellUp: number;
  sellDown: number;
}

/** The order being checked, as it would be sent. */
export interface FilterOrder {
  side: 'buy' | 'sell';
  /** `limit` carries `price`; `market` has none. */
  price?: number;
  stopPrice?: number;
  quantity: number;
  /** A recent price for a market order's notional, when one is known without a request. */
  referencePrice?: number;
}

const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : Number.NaN;
  return Number.isFinite(n) ? n : undefined;
};

/** The percent-price band of a Binance market (from `info.filters`), or undefined when it has none. */
export function percentPriceBand(m: NonNullable<Market>): PercentPriceBand | undefined {
  const filters = (m.info as { filters?: Record<string, unknown>[] } | undefined)?.filters;
  if (!Array.isArray(filters)) return undefined;
  for (const f of filters) {
    if (f.filterType === 'PERCENT_PRICE_BY_SIDE') {
      const [buyUp, buyDown, sellUp, sellDown] = [
        num(f.bidMultiplierUp),
        num(f.bidMultiplierDown),
        num(f.askMultiplierUp),
        num(f.askMultiplierDown),
      ];
      if (buyUp && buyDown !== undefined && sellUp && sellDown !== undefined)
        return { filter: 'PERCENT_PRICE_BY_SIDE', buyUp, buyDown, sellUp, sellDown };
    }
    if (f.filterType === 'PERCENT_PRICE') {
      const up = num(f.multiplierUp);
      const down = num(f.multiplierDown);
      if (up && down !== undefined)
        return { filter: 'PERCENT_PRICE', buyUp: up, buyDown: down, sellUp: up, sellDown: down };
    }
  }
  return undefined;
}

const onStep = (v: number, step: number) => Math.abs(roundToStep(v, step) - v) <= step * 1e-9;

/**
 * Why `o` breaks the instrument's filters (tick size, step size, minimum quantity, minimum notional), or null.
 * A market order's notional is checked only with a `referencePrice`; without one the exchange decides.
 */
export function checkFilters(inst: Instrument, o: FilterOrder): string | null {
  if (!(o.quantity > 0)) return `quantity ${o.quantity} must be positive`;
  for (const [name, v] of [
    ['price', o.price],
    ['stop price', o.stopPrice],
  ] as const) {
    if (v !== undefined && !onStep(v, inst.tickSize))
      return `${name} ${v} is not a multiple of the tick size ${inst.tickSize} (PRICE_FILTER)`;
  }
  if (!onStep(o.quantity, inst.lotSize))
    return `quantity ${o.quantity} is not a multiple of the step size ${inst.lotSize} (LOT_SIZE)`;
  if (o.quantity < inst.minQty * (1 - 1e-9))
    return `quantity ${o.quantity} is below the minimum ${inst.minQty} (LOT_SIZE)`;
  const px = o.price ?? o.referencePrice;
  if (px !== undefined && inst.minNotional > 0) {
    const notional = o.quantity * px * inst.multiplier;
    if (notional < inst.minNotional * (1 - 1e-9))
      return `notional ${Number(notional.toPrecision(10))} is below the minimum ${inst.minNotional} (NOTIONAL)`;
  }
  return null;
}

/** Why a limit price is outside the percent-price band around `averagePrice`, or null. */
export function checkPercentPrice(
  band: PercentPriceBand,
  side: 'buy' | 'sell',
  price: number,
  averagePrice: number,
): string | null {
  const [down, up] = side === 'buy' ? [band.buyDown, band.buyUp] : [band.sellDown, band.sellUp];
  const lo = averagePrice * down;
  const hi = averagePrice * up;
  if (price >= lo && price <= hi) return null;
  const fmt = (x: number) => Number(x.toPrecision(10));
  return `${side} price ${price} is outside ${fmt(lo)}..${fmt(hi)} (${down}..${up} times the average price ${fmt(averagePrice)}, ${band.filter})`;
}
