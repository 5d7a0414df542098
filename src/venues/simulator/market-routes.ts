/**
 * Binance's market-data answers the spot (`/api/v3`) and USDⓈ-M futures (`/fapi/v1`) routes share: klines and depth
 * (each API with its own limits), and the numeric parameter parsing both use.
 */
import { INTERVALS, klineRow, s8 } from './binance-format.js';
import { BinanceApiError, type SimExchange } from './exchange.js';

/** A numeric request parameter, undefined when absent or empty; -1100 as Binance when it is not a number. */
export function numParam(p: URLSearchParams, k: string): number | undefined {
  const v = p.get(k);
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isFinite(n))
    throw new BinanceApiError(
      400,
      -1100,
      `Illegal characters found in parameter '${k}'; legal range is '^([0-9]{1,20})(\\.[0-9]{1,20})?$'.`,
    );
  return n;
}

/** Limits of one API's klines and depth (spot: 1000 candles, depth 100 by default; futures: 1500, 500). */
export interface MarketRouteLimits {
  klinesMax: number;
  depthDefault: number;
  depthMax: number;
  /** Futures stamp the depth answer with the event and transaction time (`E`, `T`). */
  depthTimes: boolean;
}

/** Spot's limits (`/api/v3/klines`, `/api/v3/depth`). */
export const SPOT_LIMITS: MarketRouteLimits = { klinesMax: 1000, depthDefault: 100, depthMax: 5000, depthTimes: false };
/** USDⓈ-M futures' limits (`/fapi/v1/klines`, `/fapi/v1/depth`). */
export const FUTURES_LIMITS: MarketRouteLimits = {
  klinesMax: 1500,
  depthDefault: 500,
  depthMax: 1000,
  depthTimes: true,
};

/** GET klines: rows of the symbol's candles at the interval, between the optional times. */
export function klinesAnswer(ex: SimExchange, p: URLSearchParams, limits: MarketRouteLimits): unknown[] {
  const m = ex.market(p.get('symbol') ?? undefined);
  const ms = INTERVALS[p.get('interval') ?? ''];
  if (!ms) throw new BinanceApiError(400, -1120, 'Invalid interval.');
  const limit = Math.min(numParam(p, 'limit') ?? 500, limits.klinesMax);
  return m.candlesFor(ms, numParam(p, 'startTime'), numParam(p, 'endTime'), limit).map((c) => klineRow(c, ms));
}

/** GET depth: the book's best `limit` levels per side with its update id. */
export function depthAnswer(ex: SimExchange, p: URLSearchParams, limits: MarketRouteLimits): Record<string, unknown> {
  const m = ex.market(p.get('symbol') ?? undefined);
  const limit = Math.min(numParam(p, 'limit') ?? limits.depthDefault, limits.depthMax);
  const now = ex.now();
  return {
    lastUpdateId: m.updateId,
    ...(limits.depthTimes ? { E: now, T: now } : {}),
    bids: m.bids.slice(0, limit).map((l) => [s8(l.price), s8(l.qty)]),
    asks: m.asks.slice(0, limit).map((l) => [s8(l.price), s8(l.qty)]),
  };
}
