/**
 * The runtime's market data for the API (`server/api/market-port.ts`): candles from the deployments' own feeds
 * (resampled to a larger timeframe and overlaid with indicators from `indicators/`), the venue's order book, live
 * tickers and books from the venue streams while a client listens, and a `candles` event per closed bar.
 */
import type { BarColumns } from '../core/bar.js';
import { ValidationError } from '../core/errors.js';
import type { EventBus } from '../core/events.js';
import { parseTimeframe, TIMEFRAME_MS } from '../core/timeframe.js';
import type { Subscription, Venue } from '../core/venue.js';
import { resample } from '../data/resample.js';
import type { Engine } from '../engine/engine.js';
import { computeIndicators } from '../indicators/index.js';
import type { ApiCandle, ApiCandles, ApiMarketData, CandleRequest } from '../server/api/market-port.js';
import type { StreamEvent } from '../server/api/port.js';
import type { TestableVenue } from './api-venues.js';

/** The venue calls market data needs. */
export type MarketVenue = Pick<Venue, 'fetchOrderBook' | 'watchTicker' | 'watchOrderBook'>;

/** A deployment as market data needs it (a `DeploymentRuntime` is one). */
export interface MarketDeployment {
  id: string;
  symbols: readonly string[];
  engine: Engine;
  /**
   * The deployment's venue: `resilient` (retrying, reconnecting) for market data, the raw adapter for the
   * connection test; absent: no order book, live streams or test for it.
   */
  venue?: { resilient: MarketVenue } & Partial<TestableVenue>;
}

/** Levels of a streamed order book. */
const STREAM_DEPTH = 20;

function find(deps: () => readonly MarketDeployment[], symbol: string) {
  for (const d of deps()) {
    const s = d.engine.feeds.findIndex((f) => f.symbol === symbol);
    if (s >= 0) return { d, s };
  }
  throw new ValidationError(`no deployment trades ${symbol}`, 'symbol');
}

function candleAt(c: BarColumns, i: number): ApiCandle {
  return { time: c.time[i], open: c.open[i], high: c.high[i], low: c.low[i], close: c.close[i], volume: c.volume[i] };
}

/** Market data over the runtime's deployments. */
export function runtimeMarketData(deployments: () => readonly MarketDeployment[]): ApiMarketData {
  return {
    symbols: () =>
      deployments().flatMap((d) =>
        d.engine.feeds.map((f) => ({ symbol: f.symbol, deployment: d.id, timeframe: f.timeframe })),
      ),

    candles(req: CandleRequest): ApiCandles {
      const { d, s } = find(deployments, req.symbol);
      const feed = d.engine.feeds[s];
      // Live columns grow; `length` counts the rows written so far.
      let cols: BarColumns = feed.columns;
      let timeframe: string = feed.timeframe;
      if (req.timeframe !== undefined) {
        const tf = parseTimeframe(req.timeframe);
        if (TIMEFRAME_MS[tf] < TIMEFRAME_MS[feed.timeframe]) {
          throw new ValidationError(
            `${req.symbol} trades on ${feed.timeframe} bars: ask for ${feed.timeframe} or larger, not ${tf}`,
            'timeframe',
          );
        }
        cols = resample(cols, feed.timeframe, tf);
        timeframe = tf;
      }
      let overlays: { name: string; values: Float64Array }[] = [];
      try {
        overlays = req.indicators.length > 0 ? computeIndicators(req.indicators, cols) : [];
      } catch (err) {
        if (err instanceof ValidationError) throw new ValidationError(err.message, 'indicators');
        throw err;
      }
      const n = cols.length;
      const from = Math.max(0, n - req.limit);
      const candles: ApiCandle[] = [];
      for (let i = from; i < n; i++) candles.push(candleAt(cols, i));
      return {
        symbol: req.symbol,
        timeframe,
        candles,
        overlays: overlays.map((o) => ({
          name: o.name,
          values: Array.from(o.values.subarray(from, n), (v) => (Number.isFinite(v) ? v : null)),
        })),
      };
    },

    async orderBook(symbol, depth) {
      const { d } = find(deployments, symbol);
      if (!d.venue) throw new Error(`deployment ${d.id} has no venue to read the order book from`);
      const b = await d.venue.resilient.fetchOrderBook(symbol, depth);
      return { symbol, time: b.time, bids: b.bids.slice(0, depth), asks: b.asks.slice(0, depth) };
    },

    watch(topic, emit) {
      const subs: Subscription[] = [];
      const seen = new Set<string>();
      for (const d of deployments()) {
        const venue = d.venue?.resilient;
        if (!venue) continue;
        for (const symbol of d.symbols) {
          if (seen.has(symbol)) continue;
          seen.add(symbol);
          subs.push(
            topic === 'tickers'
              ? venue.watchTicker(symbol, (t) =>
                  emit({
                    topic,
                    key: symbol,
                    time: t.time > 0 ? t.time : Date.now(),
                    data: { symbol, bid: t.bid, ask: t.ask, last: t.last, time: t.time },
                  }),
                )
              : venue.watchOrderBook(symbol, (b) => {
                  const bids = b.bids.slice(0, STREAM_DEPTH);
                  const asks = b.asks.slice(0, STREAM_DEPTH);
                  const spread = bids[0] && asks[0] ? asks[0].price - bids[0].price : null;
                  emit({ topic, key: symbol, time: b.time, data: { symbol, time: b.time, bids, asks, spread } });
                }),
          );
        }
      }
      return () => {
        for (const s of subs.splice(0)) s.close();
      };
    },
  };
}

/**
 * Publishes a `candles` event for every bar a deployment's feed closes. Bars close right before the kernel records
 * equity, so each `equity.updated.v1` is the moment to look for new rows. Returns the unsubscribe.
 */
export function publishClosedCandles(
  bus: EventBus,
  deployments: () => readonly MarketDeployment[],
  emit: (e: StreamEvent) => void,
): () => void {
  const sent = new Map<string, number>();
  for (const d of deployments()) for (const f of d.engine.feeds) sent.set(`${d.id}\u0000${f.symbol}`, f.columns.length);
  return bus.subscribe('equity.updated.v1', () => {
    for (const d of deployments()) {
      for (const f of d.engine.feeds) {
        const key = `${d.id}\u0000${f.symbol}`;
        const c = f.columns;
        const from = sent.get(key) ?? 0;
        if (c.length <= from) continue;
        sent.set(key, c.length);
        for (let i = from; i < c.length; i++) {
          emit({
            topic: 'candles',
            key: f.symbol,
            time: c.time[i],
            data: { symbol: f.symbol, deployment: d.id, timeframe: f.timeframe, candle: candleAt(c, i) },
          });
        }
      }
    }
  });
}
