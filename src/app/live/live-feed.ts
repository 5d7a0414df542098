/**
 * Live market data for one deployment (DATA-4): warm-up candles on start, then closed bars from the venue's
 * streams (reconnecting with backoff), appended to the engine's feeds and delivered exactly as the backtest runner
 * delivers them. A silent or broken stream marks its symbol stale: the engine stays up, `data.stale.v1` is
 * published, and the risk gate blocks new entries on that symbol until data flows again (exits still pass).
 */
import type { Bar, BarColumns, Ticker } from '../../core/bar.js';
import type { EventBus } from '../../core/events.js';
import { TIMEFRAME_MS, type Timeframe } from '../../core/timeframe.js';
import type { Subscription, Venue } from '../../core/venue.js';
import type { Engine } from '../../engine/engine.js';
import { ReconnectingStream } from '../../venues/resilience.js';
import { inSpan, tracingEnabled } from '../../core/tracing.js';

/** Columns that grow as bars close (preallocated; `length` is the number of rows written). */
export class LiveColumns implements BarColumns {
  length = 0;
  readonly time: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;

  constructor(readonly capacity: number) {
    this.time = new Float64Array(capacity);
    this.open = new Float64Array(capacity);
    this.high = new Float64Array(capacity);
    this.low = new Float64Array(capacity);
    this.close = new Float64Array(capacity);
    this.volume = new Float64Array(capacity);
  }

  /** Time of the last row, or -Infinity when empty. */
  get lastTime(): number {
    return this.length > 0 ? this.time[this.length - 1] : Number.NEGATIVE_INFINITY;
  }

  /** Appends a bar; returns its row, or -1 when it is not newer than the last row or the columns are full. */
  append(time: number, open: number, high: number, low: number, close: number, volume: number): number {
    const i = this.length;
    if (i >= this.capacity || time <= this.lastTime) return -1;
    this.time[i] = time;
    this.open[i] = open;
    this.high[i] = high;
    this.low[i] = low;
    this.close[i] = close;
    this.volume[i] = volume;
    this.length = i + 1;
    return i;
  }
}

/** Options of the live feed. */
export interface LiveFeedOptions {
  engine: Engine;
  /** The raw venue (streams are wrapped here with stale detection) — REST calls should be retried by the caller. */
  venue: Venue;
  columns: readonly LiveColumns[];
  timeframe: Timeframe;
  bus: EventBus;
  /** Build bars of this length from the ticker stream instead of venue candles (demo). */
  barMs?: number;
  /** A stream silent this long is stale (default 30 s). */
  staleAfterMs?: number;
  /** Reconnect backoff (tests use small values). */
  reconnectBaseMs?: number;
  now?: () => number;
  /** Called for each closed bar after the engine saw it (console output, persistence). */
  onBarClosed?: (symbolIndex: number, row: number, live: boolean) => void;
  onError?: (err: Error, symbol: string) => void;
}

/** Per-symbol state of the ticker bar builder. */
class TickerBar {
  bucket = Number.NaN;
  open = 0;
  high = 0;
  low = 0;
  close = 0;
}

/** Live market data of one deployment: warm-up, streams, stale detection. */
export class LiveFeed {
  private readonly o: LiveFeedOptions;
  private readonly symbols: string[];
  private readonly builders: TickerBar[];
  private readonly streams: Subscription[] = [];
  private readonly now: () => number;
  /** Symbols currently stale. */
  readonly stale = new Set<string>();
  /** Bars delivered since start (warm-up excluded). */
  liveBars = 0;

  constructor(opts: LiveFeedOptions) {
    this.o = opts;
    this.now = opts.now ?? Date.now;
    this.symbols = opts.engine.feeds.map((f) => f.symbol);
    this.builders = this.symbols.map(() => new TickerBar());
  }

  /** Fetches up to `bars` recent closed candles per symbol and runs them through the engine (indicator warm-up). */
  async warmUp(fetchCandles: Venue['fetchCandles'], bars: number): Promise<number> {
    if (bars <= 0) return 0;
    let n = 0;
    const tf: Timeframe = this.o.barMs !== undefined ? '1m' : this.o.timeframe;
    const tfMs = TIMEFRAME_MS[tf];
    const now = this.now();
    for (let s = 0; s < this.symbols.length; s++) {
      const candles = await fetchCandles(this.symbols[s], tf, undefined, bars + 1);
      for (const b of candles) {
        if (b.time + tfMs > now) continue; // still forming
        if (this.deliver(s, b.time, b.open, b.high, b.low, b.close, b.volume, false)) n++;
      }
    }
    return n;
  }

  /** Subscribes to the live streams. */
  start(): void {
    for (let s = 0; s < this.symbols.length; s++) {
      const symbol = this.symbols[s];
      const staleOpts = {
        staleAfterMs: this.o.staleAfterMs ?? 30_000,
        baseMs: this.o.reconnectBaseMs ?? 500,
        maxDelayMs: 30_000,
        onStale: (err: Error | undefined) => this.markStale(symbol, err),
        onResumed: () => this.markResumed(symbol),
        onError: (err: Error) => this.o.onError?.(err, symbol),
      };
      if (this.o.barMs !== undefined) {
        this.streams.push(
          new ReconnectingStream<Ticker>(
            (d, e) => this.o.venue.watchTicker(symbol, d, e),
            (t) => this.onTicker(s, t),
            staleOpts,
          ),
        );
      } else {
        this.streams.push(
          new ReconnectingStream<[Bar, boolean]>(
            (d, e) => this.o.venue.watchCandles(symbol, this.o.timeframe, (b, c) => d([b, c]), e),
            ([b, closed]) => {
              if (closed) this.deliver(s, b.time, b.open, b.high, b.low, b.close, b.volume, true);
            },
            staleOpts,
          ),
        );
      }
    }
  }

  /** Closes the streams. */
  close(): void {
    for (const s of this.streams.splice(0)) s.close();
  }

  private onTicker(s: number, t: Ticker): void {
    const barMs = this.o.barMs as number;
    const price = t.last;
    if (!(price > 0)) return;
    const time = t.time > 0 ? t.time : this.now();
    const bucket = Math.floor(time / barMs) * barMs;
    const b = this.builders[s];
    if (Number.isNaN(b.bucket) || bucket > b.bucket) {
      if (!Number.isNaN(b.bucket)) this.deliver(s, b.bucket, b.open, b.high, b.low, b.close, 0, true);
      b.bucket = bucket;
      b.open = price;
      b.high = price;
      b.low = price;
    }
    if (price > b.high) b.high = price;
    if (price < b.low) b.low = price;
    b.close = price;
    this.o.engine.onTick({ symbol: t.symbol, time, bid: t.bid, ask: t.ask, last: price, volume: t.volume ?? 0 });
  }

  // The engine call sequence of the backtest runner: onBar, then the equity point.
  private deliver(
    s: number,
    time: number,
    open: number,
    high: number,
    low: number,
    close: number,
    volume: number,
    live: boolean,
  ): boolean {
    const row = this.o.columns[s].append(time, open, high, low, close, volume);
    if (row < 0) return false;
    const engine = this.o.engine;
    // Tracing on: the bar is the root of the trace of every order the strategy places on it.
    if (tracingEnabled())
      inSpan('strategy.bar', { attributes: { 'bar.symbol_index': s, 'bar.time': time } }, () => engine.onBar(s, row));
    else engine.onBar(s, row);
    engine.recordEquity(time);
    if (live) this.liveBars++;
    this.o.onBarClosed?.(s, row, live);
    return true;
  }

  private markStale(symbol: string, err: Error | undefined): void {
    if (this.stale.has(symbol)) return;
    this.stale.add(symbol);
    this.o.engine.riskView.stale.add(symbol);
    const s = this.symbols.indexOf(symbol);
    const now = this.now();
    this.o.bus.publish({
      name: 'data.stale.v1',
      time: now,
      correlationId: `stale:${symbol}:${now}`,
      source: 'feed',
      payload: { symbol, lastTime: s >= 0 ? this.o.columns[s].lastTime : Number.NaN },
    });
    this.o.bus.publish({
      name: 'alert.raised.v1',
      time: now,
      correlationId: `stale:${symbol}:${now}`,
      source: 'feed',
      payload: {
        severity: 'warning',
        title: `Market data stale: ${symbol}`,
        message: `No market data for ${symbol}${err ? ` (${err.message})` : ''}; new entries are blocked until it resumes.`,
        key: `data.stale.${symbol}`,
      },
    });
  }

  private markResumed(symbol: string): void {
    if (!this.stale.delete(symbol)) return;
    this.o.engine.riskView.stale.delete(symbol);
    const now = this.now();
    this.o.bus.publish({
      name: 'data.resumed.v1',
      time: now,
      correlationId: `resumed:${symbol}:${now}`,
      source: 'feed',
      payload: { symbol },
    });
  }
}
