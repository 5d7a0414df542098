/** Binance JSON shapes of the simulator's records (numbers as 8-decimal strings, as Binance sends them). */
import type { SimOrder, SimTrade } from './exchange.js';
import type { SimCandle, SimMarket } from './market-model.js';

/** Binance's kline intervals in ms (the ones the simulator aggregates from 1m candles). */
export const INTERVALS: Record<string, number> = {
  '1m': 60_000,
  '3m': 180_000,
  '5m': 300_000,
  '15m': 900_000,
  '30m': 1_800_000,
  '1h': 3_600_000,
  '2h': 7_200_000,
  '4h': 14_400_000,
  '1d': 86_400_000,
  '1w': 604_800_000,
};

/** Binance prints decimals as fixed 8-digit strings. */
export function s8(x: number): string {
  return x.toFixed(8);
}

/** A market's exchangeInfo entry with PRICE_FILTER, LOT_SIZE and NOTIONAL filters. */
export function symbolInfo(m: SimMarket): Record<string, unknown> {
  const { spec } = m;
  return {
    symbol: spec.symbol,
    status: 'TRADING',
    baseAsset: spec.base,
    baseAssetPrecision: 8,
    quoteAsset: spec.quote,
    quotePrecision: 8,
    quoteAssetPrecision: 8,
    baseCommissionPrecision: 8,
    quoteCommissionPrecision: 8,
    orderTypes: ['LIMIT', 'LIMIT_MAKER', 'MARKET', 'STOP_LOSS', 'STOP_LOSS_LIMIT'],
    icebergAllowed: false,
    ocoAllowed: false,
    quoteOrderQtyMarketAllowed: false,
    allowTrailingStop: false,
    cancelReplaceAllowed: false,
    isSpotTradingAllowed: true,
    isMarginTradingAllowed: false,
    filters: [
      {
        filterType: 'PRICE_FILTER',
        minPrice: s8(spec.tickSize),
        maxPrice: '1000000.00000000',
        tickSize: s8(spec.tickSize),
      },
      { filterType: 'LOT_SIZE', minQty: s8(spec.minQty), maxQty: '9000.00000000', stepSize: s8(spec.stepSize) },
      {
        filterType: 'NOTIONAL',
        minNotional: s8(spec.minNotional),
        applyMinToMarket: true,
        maxNotional: '9000000.00000000',
        applyMaxToMarket: false,
        avgPriceMins: 5,
      },
      ...(spec.percentPriceBySide
        ? [
            {
              filterType: 'PERCENT_PRICE_BY_SIDE',
              bidMultiplierUp: String(spec.percentPriceBySide.bidMultiplierUp),
              bidMultiplierDown: String(spec.percentPriceBySide.bidMultiplierDown),
              askMultiplierUp: String(spec.percentPriceBySide.askMultiplierUp),
              askMultiplierDown: String(spec.percentPriceBySide.askMultiplierDown),
              avgPriceMins: 5,
            },
          ]
        : []),
      { filterType: 'MAX_NUM_ORDERS', maxNumOrders: 200 },
    ],
    permissions: [],
    permissionSets: [['SPOT']],
    defaultSelfTradePreventionMode: 'EXPIRE_MAKER',
    allowedSelfTradePreventionModes: ['EXPIRE_TAKER', 'EXPIRE_MAKER', 'EXPIRE_BOTH'],
  };
}

/** GET /api/v3/ticker/24hr for one market (the 24h window is the kept candle history). */
export function ticker24h(m: SimMarket, now: number): Record<string, unknown> {
  const dayAgo = now - 86_400_000;
  const cs = m.candles.filter((c) => c.time >= dayAgo);
  const open = cs.length ? cs[0].open : m.last;
  let high = m.last;
  let low = m.last;
  let vol = 0;
  let qvol = 0;
  for (const c of cs) {
    high = Math.max(high, c.high);
    low = Math.min(low, c.low);
    vol += c.volume;
    qvol += c.quoteVolume;
  }
  return {
    symbol: m.spec.symbol,
    priceChange: s8(m.last - open),
    priceChangePercent: ((100 * (m.last - open)) / open).toFixed(3),
    weightedAvgPrice: s8(vol > 0 ? qvol / vol : m.last),
    prevClosePrice: s8(open),
    lastPrice: s8(m.last),
    lastQty: s8(m.lastQty),
    bidPrice: s8(m.bestBid()),
    bidQty: s8(m.bids[0]?.qty ?? 0),
    askPrice: s8(m.bestAsk()),
    askQty: s8(m.asks[0]?.qty ?? 0),
    openPrice: s8(open),
    highPrice: s8(high),
    lowPrice: s8(low),
    volume: s8(vol),
    quoteVolume: s8(qvol),
    openTime: cs.length ? cs[0].time : now,
    closeTime: now,
    firstId: 0,
    lastId: m.tradeCount,
    count: m.tradeCount,
  };
}

/** The same ticker as a `24hrTicker` stream event. */
export function tickerEvent(m: SimMarket, now: number): Record<string, unknown> {
  const t = ticker24h(m, now);
  return {
    e: '24hrTicker',
    E: now,
    s: t.symbol,
    p: t.priceChange,
    P: t.priceChangePercent,
    w: t.weightedAvgPrice,
    x: t.prevClosePrice,
    c: t.lastPrice,
    Q: t.lastQty,
    b: t.bidPrice,
    B: t.bidQty,
    a: t.askPrice,
    A: t.askQty,
    o: t.openPrice,
    h: t.highPrice,
    l: t.lowPrice,
    v: t.volume,
    q: t.quoteVolume,
    O: t.openTime,
    C: t.closeTime,
    F: 0,
    L: t.lastId,
    n: t.count,
  };
}

/** A kline row as GET /api/v3/klines returns it. */
export function klineRow(c: SimCandle, intervalMs: number): unknown[] {
  return [
    c.time,
    s8(c.open),
    s8(c.high),
    s8(c.low),
    s8(c.close),
    s8(c.volume),
    c.time + intervalMs - 1,
    s8(c.quoteVolume),
    c.trades,
    '0',
    '0',
    '0',
  ];
}

/** A `kline` stream event; `x` says whether the candle is closed. */
export function klineEvent(
  m: SimMarket,
  c: SimCandle,
  interval: string,
  intervalMs: number,
  now: number,
): Record<string, unknown> {
  return {
    e: 'kline',
    E: now,
    s: m.spec.symbol,
    k: {
      t: c.time,
      T: c.time + intervalMs - 1,
      s: m.spec.symbol,
      i: interval,
      f: 0,
      L: 0,
      o: s8(c.open),
      c: s8(c.close),
      h: s8(c.high),
      l: s8(c.low),
      v: s8(c.volume),
      n: c.trades,
      x: now >= c.time + intervalMs,
      q: s8(c.quoteVolume),
      V: '0',
      Q: '0',
      B: '0',
    },
  };
}

/** Binance's order JSON (GET/DELETE /order, openOrders); `full` adds the fills of a FULL new-order response. */
export function orderJson(o: SimOrder, full = false): Record<string, unknown> {
  const body: Record<string, unknown> = {
    symbol: o.symbol,
    orderId: o.orderId,
    orderListId: -1,
    clientOrderId: o.clientOrderId,
    price: s8(o.price),
    origQty: s8(o.origQty),
    executedQty: s8(o.executedQty),
    cummulativeQuoteQty: s8(o.cummulativeQuoteQty),
    status: o.status,
    timeInForce: o.timeInForce || 'GTC',
    type: o.type,
    side: o.side,
    stopPrice: s8(o.stopPrice),
    icebergQty: '0.00000000',
    time: o.time,
    updateTime: o.updateTime,
    isWorking: o.triggered,
    workingTime: o.triggered ? o.time : -1,
    origQuoteOrderQty: '0.00000000',
    selfTradePreventionMode: 'EXPIRE_MAKER',
  };
  if (full) {
    body.transactTime = o.time;
    body.fills = o.fills.map((f) => ({
      price: s8(f.price),
      qty: s8(f.qty),
      commission: s8(f.commission),
      commissionAsset: f.commissionAsset,
      tradeId: f.id,
    }));
  }
  return body;
}

/** Binance's myTrades JSON. */
export function tradeJson(t: SimTrade): Record<string, unknown> {
  return {
    symbol: t.symbol,
    id: t.id,
    orderId: t.orderId,
    orderListId: -1,
    price: s8(t.price),
    qty: s8(t.qty),
    quoteQty: s8(t.quoteQty),
    commission: s8(t.commission),
    commissionAsset: t.commissionAsset,
    time: t.time,
    isBuyer: t.isBuyer,
    isMaker: t.isMaker,
    isBestMatch: true,
  };
}

/**
 * A user-data `executionReport` for one change of `o` (Binance's field names), taken at the moment of the change:
 * `trade` is the execution of a `TRADE`.
 */
export function executionReport(
  o: SimOrder,
  execution: string,
  trade: SimTrade | undefined,
  now: number,
): Record<string, unknown> {
  return {
    e: 'executionReport',
    E: now,
    s: o.symbol,
    c: o.clientOrderId,
    S: o.side,
    o: o.type,
    f: o.timeInForce || 'GTC',
    q: s8(o.origQty),
    p: s8(o.price),
    P: s8(o.stopPrice),
    F: '0.00000000',
    g: -1,
    C: '',
    x: execution,
    X: o.status,
    r: 'NONE',
    i: o.orderId,
    l: s8(trade?.qty ?? 0),
    z: s8(o.executedQty),
    L: s8(trade?.price ?? 0),
    n: s8(trade?.commission ?? 0),
    N: trade ? trade.commissionAsset : null,
    T: trade?.time ?? o.updateTime,
    t: trade?.id ?? -1,
    v: 0,
    I: 0,
    w: o.status === 'NEW' || o.status === 'PARTIALLY_FILLED',
    m: trade?.isMaker ?? false,
    M: false,
    O: o.time,
    Z: s8(o.cummulativeQuoteQty),
    Y: s8(trade?.quoteQty ?? 0),
    Q: '0.00000000',
    W: o.time,
    V: 'EXPIRE_MAKER',
  };
}

/** A user-data `outboundAccountPosition` with the current free/locked of `assets`. */
export function accountPosition(
  balances: ReadonlyMap<string, { free: number; locked: number }>,
  assets: readonly string[],
  now: number,
): Record<string, unknown> {
  return {
    e: 'outboundAccountPosition',
    E: now,
    u: now,
    B: assets.map((a) => ({ a, f: s8(balances.get(a)?.free ?? 0), l: s8(balances.get(a)?.locked ?? 0) })),
  };
}
