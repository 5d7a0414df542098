/** The simulator's market: a seeded GBM price per symbol, 1m candles, and a synthetic book around the mid. */
import type { Rng } from './rng.js';

/** One market the simulator lists (Binance-style ids: `BTCUSDT`). */
export interface SimMarketSpec {
  symbol: string;
  base: string;
  quote: string;
  /** Starting mid price. */
  price: number;
  tickSize: number;
  stepSize: number;
  minQty: number;
  minNotional: number;
  /** Volatility per sqrt(second) of the GBM (default 0.0005). */
  volatility?: number;
  /** Quantity per book level (default ~10,000 quote units' worth). */
  levelQty?: number;
  /**
   * Binance's PERCENT_PRICE_BY_SIDE filter: a limit buy's price must lie within [bidMultiplierDown, bidMultiplierUp]
   * times the 5-minute average price, a sell's within the ask multipliers. Absent: no such filter.
   */
  percentPriceBySide?: {
    bidMultiplierUp: number;
    bidMultiplierDown: number;
    askMultiplierUp: number;
    askMultiplierDown: number;
  };
}

/** A price level as the simulator keeps it. */
export interface SimLevel {
  price: number;
  qty: number;
}

/** A 1m candle the simulator keeps. */
export interface SimCandle {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  quoteVolume: number;
  trades: number;
}

const MINUTE = 60_000;
const BOOK_LEVELS = 20;

/** Rounds to 8 decimals, the precision Binance prints; keeps float drift out of balances. */
export function r8(x: number): number {
  return Math.round(x * 1e8) / 1e8;
}

/** Rounds `x` to a multiple of `step` in the given direction. */
export function toStep(x: number, step: number, mode: 'down' | 'up' | 'nearest' = 'nearest'): number {
  const q = x / step;
  const n = mode === 'down' ? Math.floor(q + 1e-9) : mode === 'up' ? Math.ceil(q - 1e-9) : Math.round(q);
  return r8(n * step);
}

/** True when `x` is a whole multiple of `step` (within float noise). */
export function isMultiple(x: number, step: number): boolean {
  const q = x / step;
  return Math.abs(q - Math.round(q)) < 1e-6;
}

/** Live state of one simulated market. */
export class SimMarket {
  readonly spec: SimMarketSpec;
  mid: number;
  last: number;
  lastQty = 0;
  bids: SimLevel[] = [];
  asks: SimLevel[] = [];
  /** Binance `lastUpdateId`: bumps on every book change so depth diffs can be sequenced (U/u). */
  updateId = 1;
  candles: SimCandle[] = [];
  tradeCount = 0;
  private readonly rng: Rng;

  constructor(spec: SimMarketSpec, rng: Rng, now: number, historyBars: number) {
    this.spec = spec;
    this.rng = rng;
    this.mid = spec.price;
    this.last = spec.price;
    this.seedHistory(now, historyBars);
    this.rebuildBook();
  }

  /** Advances the price by one GBM step of `dtMs` and rebuilds the book; returns the new mid. */
  step(now: number, dtMs: number): number {
    const sigma = this.spec.volatility ?? 0.0005;
    const dt = Math.max(dtMs, 1) / 1000;
    const next = this.mid * Math.exp(sigma * Math.sqrt(dt) * this.rng.normal() - 0.5 * sigma * sigma * dt);
    this.setMid(next, now);
    return this.mid;
  }

  /** Moves the mid to `price` (tests use this to cross resting orders) and rebuilds the book. */
  setMid(price: number, now: number): void {
    this.mid = Math.max(this.spec.tickSize, toStep(price, this.spec.tickSize));
    this.last = this.mid;
    this.touchCandle(now, this.mid, 0, 0);
    this.rebuildBook();
  }

  /** Records a trade at `price` for `qty` in the candle and the last price. */
  recordTrade(now: number, price: number, qty: number): void {
    this.last = price;
    this.lastQty = qty;
    this.tradeCount++;
    this.touchCandle(now, price, qty, 1);
  }

  bestBid(): number {
    return this.bids.length ? this.bids[0].price : this.mid - this.spec.tickSize;
  }

  bestAsk(): number {
    return this.asks.length ? this.asks[0].price : this.mid + this.spec.tickSize;
  }

  /** Candles of `intervalMs` aggregated from the 1m series, in [start, end], at most `limit`, newest last. */
  candlesFor(intervalMs: number, start: number | undefined, end: number | undefined, limit: number): SimCandle[] {
    const out: SimCandle[] = [];
    for (const c of this.candles) {
      const t = Math.floor(c.time / intervalMs) * intervalMs;
      const cur = out[out.length - 1];
      if (cur && cur.time === t) {
        cur.high = Math.max(cur.high, c.high);
        cur.low = Math.min(cur.low, c.low);
        cur.close = c.close;
        cur.volume = r8(cur.volume + c.volume);
        cur.quoteVolume = r8(cur.quoteVolume + c.quoteVolume);
        cur.trades += c.trades;
      } else {
        out.push({ ...c, time: t });
      }
    }
    const filtered = out.filter(
      (c) => (start === undefined || c.time >= start) && (end === undefined || c.time <= end),
    );
    return start !== undefined ? filtered.slice(0, limit) : filtered.slice(-limit);
  }

  private touchCandle(now: number, price: number, qty: number, trades: number): void {
    const t = Math.floor(now / MINUTE) * MINUTE;
    let c = this.candles[this.candles.length - 1];
    if (!c || c.time < t) {
      const open = c ? c.close : price;
      c = {
        time: t,
        open,
        high: Math.max(open, price),
        low: Math.min(open, price),
        close: price,
        volume: 0,
        quoteVolume: 0,
        trades: 0,
      };
      this.candles.push(c);
      if (this.candles.length > 10_000) this.candles.splice(0, this.candles.length - 10_000);
    }
    c.high = Math.max(c.high, price);
    c.low = Math.min(c.low, price);
    c.close = price;
    c.volume = r8(c.volume + qty);
    c.quoteVolume = r8(c.quoteVolume + qty * price);
    c.trades += trades;
  }

  /** Rebuilds the synthetic book around the mid; liquidity regenerates every tick. */
  rebuildBook(): void {
    const { tickSize, stepSize } = this.spec;
    const half = Math.max(tickSize, toStep(this.mid * 0.0001, tickSize, 'up'));
    const gap = Math.max(tickSize, toStep(this.mid * 0.0001, tickSize, 'up'));
    const levelQty = this.spec.levelQty ?? 10_000 / this.mid;
    const bid0 = toStep(this.mid - half, tickSize, 'down');
    const ask0 = toStep(this.mid + half, tickSize, 'up');
    this.bids = [];
    this.asks = [];
    for (let i = 0; i < BOOK_LEVELS; i++) {
      const qb = Math.max(stepSize, toStep(levelQty * (0.5 + this.rng.next()), stepSize, 'down'));
      const qa = Math.max(stepSize, toStep(levelQty * (0.5 + this.rng.next()), stepSize, 'down'));
      const bp = r8(bid0 - i * gap);
      if (bp > 0) this.bids.push({ price: bp, qty: qb });
      this.asks.push({ price: r8(ask0 + i * gap), qty: qa });
    }
    this.updateId++;
  }

  // History walks backwards from the start price so the live series continues it without a jump.
  private seedHistory(now: number, bars: number): void {
    const sigma = (this.spec.volatility ?? 0.0005) * Math.sqrt(60);
    const levelQty = this.spec.levelQty ?? 10_000 / this.spec.price;
    const end = Math.floor(now / MINUTE) * MINUTE;
    const rev: SimCandle[] = [];
    let close = this.spec.price;
    for (let i = 0; i < bars; i++) {
      const open = toStep(close / Math.exp(sigma * this.rng.normal()), this.spec.tickSize);
      const hi = toStep(Math.max(open, close) * (1 + Math.abs(this.rng.normal()) * sigma * 0.3), this.spec.tickSize);
      const lo = toStep(Math.min(open, close) * (1 - Math.abs(this.rng.normal()) * sigma * 0.3), this.spec.tickSize);
      const vol = toStep(levelQty * (1 + 5 * this.rng.next()), this.spec.stepSize);
      rev.push({
        time: end - i * MINUTE,
        open,
        high: hi,
        low: lo,
        close,
        volume: vol,
        quoteVolume: r8(vol * close),
        trades: 10,
      });
      close = open;
    }
    this.candles = rev.reverse();
  }
}
