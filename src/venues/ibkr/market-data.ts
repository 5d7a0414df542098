/**
 * IB market data read into our shapes: ticks (`tickPrice` / `tickSize`) into a top-of-book quote, historical bars
 * and 5-second real-time bars into bars of a timeframe, and our timeframes into IB's bar sizes and durations. No I/O:
 * the adapter sends the requests and feeds the answers in.
 */
import { BarSizeSetting } from '@stoqey/ib';
import type { Bar, OrderBook, Ticker } from '../../core/bar.js';
import { TIMEFRAME_MS, type Timeframe } from '../../core/timeframe.js';

/** IB tick types the adapter reads (TickType; the delayed ones after `reqMarketDataType(3)`). */
export const TICK = {
  BID_SIZE: 0,
  BID: 1,
  ASK: 2,
  ASK_SIZE: 3,
  LAST: 4,
  VOLUME: 8,
  DELAYED_BID: 66,
  DELAYED_ASK: 67,
  DELAYED_LAST: 68,
  DELAYED_BID_SIZE: 69,
  DELAYED_ASK_SIZE: 70,
  DELAYED_VOLUME: 74,
} as const;

/** IB's `barSizeSetting` for each of our timeframes. */
export const IB_BAR_SIZE: Readonly<Record<Timeframe, BarSizeSetting>> = {
  '1m': BarSizeSetting.MINUTES_ONE,
  '5m': BarSizeSetting.MINUTES_FIVE,
  '15m': BarSizeSetting.MINUTES_FIFTEEN,
  '1h': BarSizeSetting.HOURS_ONE,
  '4h': BarSizeSetting.HOURS_FOUR,
  '1d': BarSizeSetting.DAYS_ONE,
  '1w': BarSizeSetting.WEEKS_ONE,
};

const DAY_MS = 86_400_000;

/** IB's `durationStr` covering `ms`: seconds up to a day ("3600 S"), whole days up to a year, then years. */
export function ibDuration(ms: number): string {
  if (ms <= DAY_MS) return `${Math.max(60, Math.ceil(ms / 1000))} S`;
  const days = Math.ceil(ms / DAY_MS);
  return days <= 365 ? `${days} D` : `${Math.ceil(days / 365)} Y`;
}

/** IB's `endDateTime` in its UTC form ("yyyyMMdd-HH:mm:ss"). */
export function ibEndDateTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/**
 * The time of a historical bar asked with `formatDate` 2: epoch seconds for intraday bars, "yyyyMMdd" for daily and
 * weekly ones (read as UTC midnight). NaN when it is neither.
 */
export function ibBarTime(s: string): number {
  if (/^\d{8}$/.test(s)) return Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8));
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  return Number.NaN;
}

/** What a historical or real-time bar request shows: trades for stocks; forex has no trades, so the midpoint. */
export function whatToShowFor(secType: string | undefined): 'TRADES' | 'MIDPOINT' {
  return secType === 'CASH' ? 'MIDPOINT' : 'TRADES';
}

/** The top of book of one symbol as ticks build it. IB sends -1 (or nothing) for a side without a quote. */
export class TopOfBook {
  bid = 0;
  ask = 0;
  last = 0;
  bidSize = 0;
  askSize = 0;
  volume: number | undefined;
  private sizes = 0;

  constructor(
    readonly symbol: string,
    /** Whether the instrument trades (stocks do; forex quotes only, so its last is the mid). */
    private readonly trades: boolean,
  ) {}

  /** Applies a `tickPrice`; true when it changed a price we report. */
  price(tickType: number, price: number | undefined): boolean {
    const v = price !== undefined && price > 0 ? price : 0;
    switch (tickType) {
      case TICK.BID:
      case TICK.DELAYED_BID:
        this.bid = v;
        return true;
      case TICK.ASK:
      case TICK.DELAYED_ASK:
        this.ask = v;
        return true;
      case TICK.LAST:
      case TICK.DELAYED_LAST:
        this.last = v;
        return true;
      default:
        return false;
    }
  }

  /** Applies a `tickSize`; true when it changed a size we report. */
  size(tickType: number, size: number | undefined): boolean {
    const v = size !== undefined && size >= 0 ? size : 0;
    switch (tickType) {
      case TICK.BID_SIZE:
      case TICK.DELAYED_BID_SIZE:
        this.bidSize = v;
        this.sizes |= 1;
        return true;
      case TICK.ASK_SIZE:
      case TICK.DELAYED_ASK_SIZE:
        this.askSize = v;
        this.sizes |= 2;
        return true;
      case TICK.VOLUME:
      case TICK.DELAYED_VOLUME:
        this.volume = v;
        return true;
      default:
        return false;
    }
  }

  /** Whether both sides are quoted with their sizes and, for a traded instrument, a last price is known. */
  get complete(): boolean {
    return this.bid > 0 && this.ask > 0 && this.sizes === 3 && (!this.trades || this.last > 0);
  }

  /** The ticker (`last` is the mid for an instrument without trades). IB ticks carry no time: `time` is ours. */
  ticker(time: number): Ticker {
    const t: Ticker = {
      symbol: this.symbol,
      time,
      bid: this.bid,
      ask: this.ask,
      last: this.trades ? this.last : (this.bid + this.ask) / 2,
    };
    if (this.volume !== undefined) t.volume = this.volume;
    return t;
  }

  /** The book's one level each side (IB's top of book; depth is a Level II subscription we do not read). */
  book(time: number): OrderBook {
    return {
      symbol: this.symbol,
      time,
      bids: this.bid > 0 ? [{ price: this.bid, quantity: this.bidSize }] : [],
      asks: this.ask > 0 ? [{ price: this.ask, quantity: this.askSize }] : [],
    };
  }
}

/**
 * Builds bars of a timeframe from IB's 5-second real-time bars. A bar closes when the first 5-second bar of the
 * next one arrives (IB sends no end-of-bar mark), so a closed bar is reported about 5 s after its end.
 */
export class BarAggregator {
  private readonly tfMs: number;
  private current: Bar | undefined;

  constructor(
    timeframe: Timeframe,
    private readonly onBar: (bar: Bar, closed: boolean) => void,
  ) {
    this.tfMs = TIMEFRAME_MS[timeframe];
  }

  /** Adds one 5-second bar (`time` in epoch ms). */
  add(time: number, open: number, high: number, low: number, close: number, volume: number): void {
    const bucket = Math.floor(time / this.tfMs) * this.tfMs;
    const c = this.current;
    if (c && bucket < c.time) return; // a late bar of a closed period
    if (c && bucket > c.time) {
      this.onBar(c, true);
      this.current = undefined;
    }
    const v = volume > 0 ? volume : 0;
    if (!this.current) {
      this.current = { time: bucket, open, high, low, close, volume: v };
    } else {
      const b = this.current;
      if (high > b.high) b.high = high;
      if (low < b.low) b.low = low;
      b.close = close;
      b.volume += v;
    }
    this.onBar({ ...this.current }, false);
  }
}
