/**
 * Market data for the API tests: a real kernel whose feed grows like a live one (`LiveColumns`), served by the
 * runtime's own market adapter (`app/api-market.ts`), over a scripted venue at the edge that the test drives
 * (order book snapshots, tickers).
 */
import { publishClosedCandles, runtimeMarketData, type MarketVenue } from '../src/app/api-market.js';
import { LiveColumns } from '../src/app/live/live-feed.js';
import { SimulatedVenue } from '../src/backtest/simulated-venue.js';
import type { OrderBook, Ticker } from '../src/core/bar.js';
import { defineInstrument } from '../src/core/instrument.js';
import type { Subscription } from '../src/core/venue.js';
import { SimulatedClock } from '../src/engine/clock.js';
import { Engine } from '../src/engine/engine.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import { SymbolFeed } from '../src/engine/market-data.js';
import type { ApiMarketData } from '../src/server/api/market-port.js';
import type { StreamEvent } from '../src/server/api/port.js';

/** The first bar's time of the scripted history (1m bars). */
export const MARKET_T0 = Date.UTC(2026, 0, 5);
const MIN = 60_000;

/** A venue at the edge: the test sets the book and pushes tickers and books to whoever watches. */
export class ScriptedMarketVenue implements MarketVenue {
  book: OrderBook = {
    symbol: 'BTC/USDT',
    time: MARKET_T0,
    bids: [
      { price: 99.5, quantity: 2 },
      { price: 99, quantity: 5 },
      { price: 98.5, quantity: 1 },
    ],
    asks: [
      { price: 100.5, quantity: 1.5 },
      { price: 101, quantity: 4 },
      { price: 102, quantity: 8 },
    ],
  };
  readonly tickerWatchers = new Set<(t: Ticker) => void>();
  readonly bookWatchers = new Set<(b: OrderBook) => void>();

  async fetchOrderBook(symbol: string, depth?: number): Promise<OrderBook> {
    const n = depth ?? 20;
    return { ...this.book, symbol, bids: this.book.bids.slice(0, n), asks: this.book.asks.slice(0, n) };
  }
  watchTicker(_symbol: string, onTicker: (t: Ticker) => void): Subscription {
    this.tickerWatchers.add(onTicker);
    return { close: () => this.tickerWatchers.delete(onTicker) };
  }
  watchOrderBook(_symbol: string, onBook: (b: OrderBook) => void): Subscription {
    this.bookWatchers.add(onBook);
    return { close: () => this.bookWatchers.delete(onBook) };
  }
  pushTicker(t: Ticker): void {
    for (const w of this.tickerWatchers) w(t);
  }
  pushBook(b: OrderBook): void {
    this.book = b;
    for (const w of this.bookWatchers) w(b);
  }
}

/** A deployment `demo` trading BTC/USDT on 1m bars, `bars` of history already closed. */
export class ScriptedMarket {
  readonly venue = new ScriptedMarketVenue();
  readonly columns = new LiveColumns(10_000);
  readonly engine: Engine;
  readonly data: ApiMarketData;
  private readonly bus = new InProcessEventBus();

  constructor(emit: (e: StreamEvent) => void, bars = 240) {
    const clock = new SimulatedClock(MARKET_T0);
    this.engine = new Engine({
      mode: 'paper',
      strategy: {},
      strategyId: 'demo',
      feeds: [new SymbolFeed('BTC/USDT', this.columns, '1m')],
      timeframe: '1m',
      instruments: [defineInstrument({ symbol: 'BTC/USDT', lotSize: 1e-6 })],
      venue: new SimulatedVenue({ clock }),
      clock,
      bus: this.bus,
      cash: 10_000,
    });
    const deployments = () => [
      { id: 'demo', symbols: ['BTC/USDT'], engine: this.engine, venue: { resilient: this.venue } },
    ];
    this.data = runtimeMarketData(deployments);
    publishClosedCandles(this.bus, deployments, emit);
    this.engine.start();
    // A gentle deterministic wave around 100, so indicators and the chart have something to show.
    for (let i = 0; i < bars; i++) {
      const mid = 100 + 5 * Math.sin(i / 15);
      this.close(MARKET_T0 + i * MIN, mid - 0.2, mid + 0.6, mid - 0.7, mid + 0.2, 10 + (i % 7));
    }
  }

  /** The time of the next bar. */
  get nextTime(): number {
    return this.columns.lastTime + MIN;
  }

  /** Closes one bar the way the live feed does: append, the kernel's onBar, then the equity point. */
  close(time: number, open: number, high: number, low: number, close: number, volume: number): void {
    const row = this.columns.append(time, open, high, low, close, volume);
    if (row < 0) throw new Error(`bar at ${time} is not after the last one`);
    this.engine.onBar(0, row);
    this.engine.recordEquity(time);
  }
}
