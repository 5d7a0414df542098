/** Conversions between ccxt's unified structures and the core's venue types. */
import type { Market, Order, OrderBook as CcxtBook, Ticker as CcxtTicker, OHLCV, Trade } from 'ccxt';
import { decimalText, exact, quantisePrice, quantiseQuantity } from '../../core/money.js';
import type {
  Bar,
  Instrument,
  OrderBook,
  OrderStatus,
  OrderType,
  Ticker,
  VenueFill,
  VenueOrder,
} from '../../core/index.js';
import { RAW_FIELDS, rawDecimal } from './raw-decimal.js';

const DECIMAL_PLACES = 2;
const SIGNIFICANT_DIGITS = 3;

// ccxt precision is a tick size on most exchanges now, but a few still report decimal places.
function step(value: number | undefined, mode: number): number {
  if (value === undefined || value === null || !Number.isFinite(value)) return Number.NaN;
  if (mode === DECIMAL_PLACES || mode === SIGNIFICANT_DIGITS) return 10 ** -value;
  return value;
}

/** A ccxt market as a core Instrument, or undefined when its precision is unusable. */
export function toInstrument(m: Market, precisionMode: number): Instrument | undefined {
  if (!m) return undefined;
  const tickSize = step(m.precision?.price, precisionMode);
  const lotSize = step(m.precision?.amount, precisionMode);
  if (!(tickSize > 0) || !(lotSize > 0)) return undefined;
  const minQty = m.limits?.amount?.min;
  const minNotional = m.limits?.cost?.min;
  return {
    symbol: m.symbol,
    base: m.base,
    quote: m.quote,
    kind: m.spot ? 'spot' : 'future',
    tickSize,
    lotSize,
    minQty: minQty !== undefined && minQty > 0 ? minQty : lotSize,
    minNotional: minNotional !== undefined && minNotional > 0 ? minNotional : 0,
    multiplier: m.contractSize && m.contractSize > 0 ? m.contractSize : 1,
  };
}

/** The amounts of an order as the decimal strings ccxt sends (docs/money.md). */
export interface OrderAmountTexts {
  amount: string;
  price?: string;
  triggerPrice?: string;
}

/**
 * An order's quantity, limit price and trigger as exact decimal strings for ccxt: on the market's lot and tick by
 * the rules of docs/money.md (quantity toward zero, a limit to the passive side, a trigger away from the market) when
 * the market's precision is known, else the decimal each number stands for. Never a float through `toFixed`.
 */
export function orderAmountTexts(
  inst: Instrument | undefined,
  req: {
    side: 'buy' | 'sell';
    type: OrderType;
    quantity: number;
    price?: number;
    stopPrice?: number;
    /** The exact decimal text of the amounts (the live bridge's), read instead of the doubles. */
    exact?: { quantity: string; price?: string; stopPrice?: string };
  },
): OrderAmountTexts {
  const q = req.exact?.quantity ?? req.quantity;
  const amount = inst ? quantiseQuantity(inst, q) : exact(q, 'order quantity');
  const out: OrderAmountTexts = { amount: decimalText(amount) };
  if (req.price !== undefined) {
    const raw = req.exact?.price ?? req.price;
    const p = inst ? quantisePrice(inst, raw, req.side, 'limit') : exact(raw, 'order price');
    out.price = decimalText(p);
  }
  if (req.stopPrice !== undefined) {
    const raw = req.exact?.stopPrice ?? req.stopPrice;
    const t = inst ? quantisePrice(inst, raw, req.side, 'stop') : exact(raw, 'order stop price');
    out.triggerPrice = decimalText(t);
  }
  return out;
}

/** ccxt's order status plus the filled amount as the core's lifecycle state. */
export function toStatus(o: Order): OrderStatus {
  const filled = o.filled ?? 0;
  switch (o.status) {
    case 'open':
      return filled > 0 ? 'partially_filled' : 'accepted';
    case 'closed':
      return 'filled';
    case 'canceled':
      return 'cancelled';
    case 'expired':
      return 'expired';
    case 'rejected':
      return 'rejected';
    default:
      return 'submitted';
  }
}

function toType(o: Order): OrderType {
  const trig = o.triggerPrice ?? o.stopPrice;
  const t = (o.type ?? '').toLowerCase();
  if (trig !== undefined && trig !== null && trig > 0)
    return t.includes('limit') || (o.price ?? 0) > 0 ? 'stop_limit' : 'stop';
  return t === 'market' ? 'market' : 'limit';
}

/** A ccxt order as a VenueOrder; `fallbackClientId` fills in when the venue does not echo client ids. */
export function toVenueOrder(o: Order, fallbackClientId?: string): VenueOrder {
  const trig = o.triggerPrice ?? o.stopPrice;
  const created = o.timestamp ?? Date.now();
  return {
    venueOrderId: String(o.id),
    clientOrderId: o.clientOrderId ?? fallbackClientId ?? '',
    symbol: o.symbol ?? '',
    side: o.side === 'sell' ? 'sell' : 'buy',
    type: toType(o),
    status: toStatus(o),
    quantity: o.amount ?? 0,
    filledQuantity: o.filled ?? 0,
    averagePrice: o.average ?? (o.filled && o.cost ? o.cost / o.filled : 0),
    ...(o.price ? { price: o.price } : {}),
    ...(trig ? { stopPrice: trig } : {}),
    createdAt: created,
    updatedAt: o.lastUpdateTimestamp ?? o.lastTradeTimestamp ?? created,
    ...rawOrderTexts(o),
  };
}

/** The exchange's own text of an order's quantity and filled quantity, when its raw message has them. */
function rawOrderTexts(o: Order): { exact?: VenueOrder['exact'] } {
  const quantity = rawDecimal(o.info, RAW_FIELDS.orderQuantity, o.amount);
  const filledQuantity = rawDecimal(o.info, RAW_FIELDS.filledQuantity, o.filled);
  if (quantity === undefined && filledQuantity === undefined) return {};
  return {
    exact: {
      ...(quantity !== undefined ? { quantity } : {}),
      ...(filledQuantity !== undefined ? { filledQuantity } : {}),
    },
  };
}

/** A ccxt trade of ours as a VenueFill. */
export function toVenueFill(t: Trade, clientOrderId?: string): VenueFill {
  return {
    venueTradeId: String(t.id),
    venueOrderId: String(t.order ?? ''),
    ...(clientOrderId ? { clientOrderId } : {}),
    symbol: t.symbol ?? '',
    side: t.side === 'sell' ? 'sell' : 'buy',
    price: t.price ?? 0,
    quantity: t.amount ?? 0,
    fee: t.fee?.cost ?? 0,
    feeCurrency: t.fee?.currency ?? '',
    liquidity: t.takerOrMaker === 'maker' ? 'maker' : 'taker',
    time: t.timestamp ?? Date.now(),
    ...rawFillTexts(t),
  };
}

/** The exchange's own text of a trade's price, quantity and fee (Binance `price`/`qty`/`commission`, `L`/`l`/`n`). */
function rawFillTexts(t: Trade): { exact?: VenueFill['exact'] } {
  const price = rawDecimal(t.info, RAW_FIELDS.price, t.price);
  const quantity = rawDecimal(t.info, RAW_FIELDS.quantity, t.amount);
  const fee = rawDecimal(t.info, RAW_FIELDS.fee, t.fee?.cost);
  if (price === undefined && quantity === undefined && fee === undefined) return {};
  return {
    exact: {
      ...(price !== undefined ? { price } : {}),
      ...(quantity !== undefined ? { quantity } : {}),
      ...(fee !== undefined ? { fee } : {}),
    },
  };
}

/** A ccxt ticker as a core Ticker. */
export function toTicker(t: CcxtTicker, symbol: string): Ticker {
  const last = t.last ?? t.close ?? 0;
  return {
    symbol,
    time: t.timestamp ?? Date.now(),
    bid: t.bid ?? last,
    ask: t.ask ?? last,
    last,
    ...(t.high !== undefined ? { high: t.high } : {}),
    ...(t.low !== undefined ? { low: t.low } : {}),
    ...(t.baseVolume !== undefined ? { volume: t.baseVolume } : {}),
  };
}

/** A ccxt OHLCV row as a Bar. */
export function toBar(r: OHLCV): Bar {
  return { time: r[0] ?? 0, open: r[1] ?? 0, high: r[2] ?? 0, low: r[3] ?? 0, close: r[4] ?? 0, volume: r[5] ?? 0 };
}

/** A ccxt book (first `depth` levels) as a core OrderBook. */
export function toOrderBook(b: CcxtBook, symbol: string, depth: number): OrderBook {
  const levels = (side: [number | undefined, number | undefined][]) => {
    const out = [];
    for (let i = 0; i < side.length && i < depth; i++) out.push({ price: side[i][0] ?? 0, quantity: side[i][1] ?? 0 });
    return out;
  };
  return {
    symbol,
    time: b.timestamp ?? Date.now(),
    bids: levels(b.bids as [number, number][]),
    asks: levels(b.asks as [number, number][]),
  };
}
