/**
 * Kraken spot JSON shapes of the simulator's records (the `/0/public` and `/0/private` REST API): asset and pair
 * naming (XXBT / XBT, XXBTZUSD / XBTUSD), order and trade ids (`OXXXXX-XXXXX-XXXXXX`), the error strings Kraken puts in
 * its `{ error: [...], result }` envelope for what the matching core refuses.
 */
import type { BinanceApiError, SimOrder, SimTrade } from './exchange.js';
import type { SimCandle, SimMarket, SimMarketSpec } from './market-model.js';

/** One Kraken asset: its id (`XXBT`, `ZUSD`) is the balance key; `altname` is the short name (`XBT`, `USD`). */
export interface KrakenAssetSpec {
  id: string;
  altname: string;
  /** Decimals Kraken keeps for the asset (10 for crypto, 4 for fiat). */
  decimals: number;
}

/** A Kraken pair: the matching core's market (its `symbol` is the pair id, `base`/`quote` are asset ids). */
export interface KrakenPairSpec extends SimMarketSpec {
  /** Short pair name (`XBTUSD`): what order descriptions and `descr.pair` carry. */
  altname: string;
  /** WebSocket name (`XBT/USD`). */
  wsname: string;
}

/** Assets of the default Kraken markets. */
export const KRAKEN_ASSETS: readonly KrakenAssetSpec[] = [
  { id: 'XXBT', altname: 'XBT', decimals: 10 },
  { id: 'XETH', altname: 'ETH', decimals: 10 },
  { id: 'ZUSD', altname: 'USD', decimals: 4 },
];

/** Default Kraken markets: XXBTZUSD (BTC/USD) and XETHZUSD (ETH/USD) with Kraken's decimals and minimums. */
export const KRAKEN_MARKETS: readonly KrakenPairSpec[] = [
  {
    symbol: 'XXBTZUSD',
    altname: 'XBTUSD',
    wsname: 'XBT/USD',
    base: 'XXBT',
    quote: 'ZUSD',
    price: 30_000,
    tickSize: 0.1,
    stepSize: 0.00000001,
    minQty: 0.0001,
    minNotional: 0.5,
  },
  {
    symbol: 'XETHZUSD',
    altname: 'ETHUSD',
    wsname: 'ETH/USD',
    base: 'XETH',
    quote: 'ZUSD',
    price: 2_000,
    tickSize: 0.01,
    stepSize: 0.00000001,
    minQty: 0.002,
    minNotional: 0.5,
  },
];

/** Default balances of the Kraken account, by asset id. */
export const KRAKEN_BALANCES: Readonly<Record<string, number>> = { ZUSD: 100_000, XXBT: 1, XETH: 10 };

/** Kraken's page size for `TradesHistory` and `ClosedOrders`. */
export const KRAKEN_PAGE = 50;

/** Decimals of a step (0.1 → 1, 1e-8 → 8). */
export function decimalsOf(step: number): number {
  return Math.max(0, Math.round(-Math.log10(step)));
}

/** A price in the pair's decimals, a volume in 8 decimals: how Kraken prints them. */
export function price(m: SimMarketSpec, x: number): string {
  return x.toFixed(decimalsOf(m.tickSize));
}

/** A volume or fee as Kraken prints it (8 decimals). */
export function vol(x: number): string {
  return x.toFixed(8);
}

// Kraken ids look like `OUF4EM-FRGI2-MQMWZD`: the simulator's numeric id in base 36, zero-padded into that shape.
function krakenId(prefix: 'O' | 'T' | 'P', n: number): string {
  const s = n.toString(36).toUpperCase().padStart(16, '0');
  return `${prefix}${s.slice(0, 5)}-${s.slice(5, 10)}-${s.slice(10, 16)}`;
}

/** The Kraken transaction id (`txid`) of an order. */
export function orderTxid(orderId: number): string {
  return krakenId('O', orderId);
}

/** The Kraken id of a trade. */
export function tradeTxid(tradeId: number): string {
  return krakenId('T', tradeId);
}

/** The simulator's order id behind a Kraken `txid`, or undefined when it is not one of ours. */
export function orderIdOf(txid: string): number | undefined {
  if (!/^O[0-9A-Z]{5}-[0-9A-Z]{5}-[0-9A-Z]{6}$/.test(txid)) return undefined;
  const n = Number.parseInt(txid.slice(1).replace(/-/g, ''), 36);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Kraken's `ordertype` of a core order. */
export function krakenOrderType(o: SimOrder): string {
  switch (o.type) {
    case 'MARKET':
      return 'market';
    case 'LIMIT':
      return 'limit';
    case 'STOP_LOSS':
      return 'stop-loss';
    case 'STOP_LOSS_LIMIT':
      return 'stop-loss-limit';
  }
}

/** The order description Kraken returns from AddOrder and in `descr.order` (`buy 0.00010000 XBTUSD @ limit 18000.0`). */
export function orderDescription(o: SimOrder, pair: KrakenPairSpec): string {
  const head = `${o.side === 'BUY' ? 'buy' : 'sell'} ${vol(o.origQty)} ${pair.altname} @ `;
  switch (o.type) {
    case 'MARKET':
      return `${head}market`;
    case 'LIMIT':
      return `${head}limit ${price(pair, o.price)}`;
    case 'STOP_LOSS':
      return `${head}stop loss ${price(pair, o.stopPrice)}`;
    case 'STOP_LOSS_LIMIT':
      return `${head}stop loss ${price(pair, o.stopPrice)} -> limit ${price(pair, o.price)}`;
  }
}

/** Kraken's order status: `open` while working (a stop not yet triggered too), then `closed`, `canceled`, `expired`. */
export function orderStatus(o: SimOrder): string {
  switch (o.status) {
    case 'NEW':
    case 'PARTIALLY_FILLED':
      return 'open';
    case 'FILLED':
      return 'closed';
    case 'CANCELED':
      return 'canceled';
    default:
      return 'expired';
  }
}

/**
 * An order as `QueryOrders`, `OpenOrders` and `ClosedOrders` return it: times in seconds, `price` the average, `fee`
 * in quote (`oflags: fciq`), `cl_ord_id` only when the order was placed with one.
 */
export function orderJson(
  o: SimOrder,
  pair: KrakenPairSpec,
  clientOrderId: string | undefined,
  withTrades: boolean,
): Record<string, unknown> {
  const final = o.status !== 'NEW' && o.status !== 'PARTIALLY_FILLED';
  const fee = o.fills.reduce((s, f) => s + f.commission, 0);
  const isStop = o.type === 'STOP_LOSS' || o.type === 'STOP_LOSS_LIMIT';
  return {
    refid: null,
    userref: null,
    ...(clientOrderId !== undefined ? { cl_ord_id: clientOrderId } : {}),
    status: orderStatus(o),
    reason: o.status === 'CANCELED' ? 'User requested' : o.status === 'EXPIRED' ? 'Insufficient liquidity' : null,
    opentm: o.time / 1000,
    ...(final ? { closetm: o.updateTime / 1000 } : {}),
    starttm: 0,
    expiretm: 0,
    descr: {
      pair: pair.altname,
      type: o.side === 'BUY' ? 'buy' : 'sell',
      ordertype: krakenOrderType(o),
      // Kraken: `price` is the limit price, or the trigger of a stop; `price2` the limit of a stop-limit.
      price: price(pair, isStop ? o.stopPrice : o.price),
      price2: price(pair, o.type === 'STOP_LOSS_LIMIT' ? o.price : 0),
      leverage: 'none',
      order: orderDescription(o, pair),
      close: '',
    },
    vol: vol(o.origQty),
    vol_exec: vol(o.executedQty),
    cost: vol(o.cummulativeQuoteQty),
    fee: vol(fee),
    price: price(pair, o.executedQty > 0 ? o.cummulativeQuoteQty / o.executedQty : 0),
    stopprice: price(pair, isStop ? o.stopPrice : 0),
    limitprice: price(pair, o.type === 'LIMIT' || o.type === 'STOP_LOSS_LIMIT' ? o.price : 0),
    misc: '',
    oflags: 'fciq',
    ...(withTrades ? { trades: o.fills.map((f) => tradeTxid(f.id)) } : {}),
  };
}

/** One of the account's trades as `TradesHistory` returns it (keyed by its trade id; `pair` is the pair id). */
export function tradeJson(t: SimTrade, o: SimOrder | undefined, pair: KrakenPairSpec): Record<string, unknown> {
  return {
    ordertxid: orderTxid(t.orderId),
    postxid: krakenId('P', t.id),
    pair: pair.symbol,
    time: t.time / 1000,
    type: t.isBuyer ? 'buy' : 'sell',
    ordertype: o ? krakenOrderType(o) : 'market',
    price: price(pair, t.price),
    cost: vol(t.quoteQty),
    fee: vol(t.commission),
    vol: vol(t.qty),
    margin: '0.00000000',
    leverage: '0',
    misc: '',
    trade_id: t.id,
    maker: t.isMaker,
  };
}

/** `AssetPairs` entry of a pair (fees in percent, as Kraken lists them). */
export function assetPairJson(pair: KrakenPairSpec, feeRate: number): Record<string, unknown> {
  const pct = feeRate * 100;
  return {
    altname: pair.altname,
    wsname: pair.wsname,
    aclass_base: 'currency',
    base: pair.base,
    aclass_quote: 'currency',
    quote: pair.quote,
    lot: 'unit',
    cost_decimals: 5,
    pair_decimals: decimalsOf(pair.tickSize),
    lot_decimals: decimalsOf(pair.stepSize),
    lot_multiplier: 1,
    leverage_buy: [],
    leverage_sell: [],
    fees: [[0, pct]],
    fees_maker: [[0, pct]],
    fee_volume_currency: 'ZUSD',
    margin_call: 80,
    margin_stop: 40,
    ordermin: String(pair.minQty),
    costmin: String(pair.minNotional),
    tick_size: String(pair.tickSize),
    status: 'online',
  };
}

/** `Assets` entry of an asset. */
export function assetJson(a: KrakenAssetSpec): Record<string, unknown> {
  return { aclass: 'currency', altname: a.altname, decimals: a.decimals, display_decimals: 5, status: 'enabled' };
}

/** `Ticker` entry of a pair: a/b with lot volumes, c last trade, v/p/t/l/h today and last 24 h, o today's open. */
export function tickerJson(m: SimMarket, now: number): Record<string, unknown> {
  const spec = m.spec;
  const dayStart = Math.floor(now / 86_400_000) * 86_400_000;
  const stats = (from: number) => {
    const cs = m.candles.filter((c) => c.time >= from);
    let high = m.last;
    let low = m.last;
    let volume = 0;
    let quote = 0;
    let trades = 0;
    for (const c of cs) {
      high = Math.max(high, c.high);
      low = Math.min(low, c.low);
      volume += c.volume;
      quote += c.quoteVolume;
      trades += c.trades;
    }
    return { high, low, volume, vwap: volume > 0 ? quote / volume : m.last, trades, open: cs[0]?.open ?? m.last };
  };
  const today = stats(dayStart);
  const day = stats(now - 86_400_000);
  const askQty = m.asks[0]?.qty ?? 0;
  const bidQty = m.bids[0]?.qty ?? 0;
  return {
    a: [price(spec, m.bestAsk()), String(Math.max(1, Math.round(askQty))), vol(askQty)],
    b: [price(spec, m.bestBid()), String(Math.max(1, Math.round(bidQty))), vol(bidQty)],
    c: [price(spec, m.last), vol(0)],
    v: [vol(today.volume), vol(day.volume)],
    p: [price(spec, today.vwap), price(spec, day.vwap)],
    t: [today.trades, day.trades],
    l: [price(spec, today.low), price(spec, day.low)],
    h: [price(spec, today.high), price(spec, day.high)],
    o: price(spec, today.open),
  };
}

/** An `OHLC` row: `[time s, open, high, low, close, vwap, volume, count]`. */
export function ohlcRow(spec: SimMarketSpec, c: SimCandle): unknown[] {
  const vwap = c.volume > 0 ? c.quoteVolume / c.volume : c.close;
  return [
    Math.floor(c.time / 1000),
    price(spec, c.open),
    price(spec, c.high),
    price(spec, c.low),
    price(spec, c.close),
    price(spec, vwap),
    vol(c.volume),
    c.trades,
  ];
}

/** A Kraken error string carried by a Kraken-side refusal (thrown inside the Kraken server, answered in `error`). */
export class KrakenApiError extends Error {}

/**
 * The Kraken error string for what the matching core refused with a Binance code: the same refusal as Kraken words
 * it (`EOrder:Insufficient funds`, `EOrder:Order minimum not met`, `EOrder:Unknown order`...).
 */
export function krakenError(err: BinanceApiError): string {
  const msg = err.message;
  switch (err.code) {
    case -1121:
      return 'EQuery:Unknown asset pair';
    case -2011:
    case -2013:
      return 'EOrder:Unknown order';
    case -1116:
      return 'EGeneral:Invalid arguments:ordertype';
    case -1013:
      if (msg.includes('LOT_SIZE')) return 'EOrder:Order minimum not met';
      if (msg.includes('NOTIONAL')) return 'EOrder:Cost minimum not met';
      if (msg.includes('PRICE')) return 'EGeneral:Invalid arguments:price';
      return 'EGeneral:Invalid arguments';
    case -2010:
      if (/insufficient balance/i.test(msg)) return 'EOrder:Insufficient funds';
      if (/duplicate/i.test(msg)) return 'EOrder:Duplicate order';
      if (/stop price/i.test(msg)) return 'EGeneral:Invalid arguments:price';
      return `EOrder:${msg}`;
    default:
      return 'EGeneral:Invalid arguments';
  }
}
