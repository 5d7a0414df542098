import { checkPeriod, checkSameLength } from './params.js';

/** True range of a bar given the previous close: max(high, prevClose) - min(low, prevClose). */
export function trueRange(high: number, low: number, prevClose: number): number {
  const hi = Math.max(high, prevClose);
  const lo = Math.min(low, prevClose);
  return hi - lo;
}

/**
 * Average True Range with Wilder smoothing (TA-Lib ATR, TTR ATR). True range starts at the second bar (it needs
 * the previous close); the first ATR is the simple average of the first `period` true ranges, then
 * atr = (atr*(period-1) + tr)/period. Warm-up: `period` NaN.
 */
export class Atr {
  readonly period: number;
  private prevClose = Number.NaN;
  private bars = 0;
  private count = 0;
  private avg = 0;
  private out = Number.NaN;

  /** `period` >= 1 (default 14). */
  constructor(period = 14) {
    this.period = checkPeriod('atr period', period);
  }

  /** Adds a bar; returns the ATR, NaN until `period` true ranges were seen. */
  update(high: number, low: number, close: number): number {
    const n = this.period;
    if (this.bars++ === 0) {
      this.prevClose = close;
      return this.out;
    }
    const tr = trueRange(high, low, this.prevClose);
    this.prevClose = close;
    if (this.count < n) {
      this.avg += tr;
      if (++this.count < n) return this.out;
      this.avg /= n;
    } else {
      this.avg = (this.avg * (n - 1) + tr) / n;
    }
    this.out = this.avg;
    return this.out;
  }

  /** The latest ATR (NaN during warm-up). */
  get value(): number {
    return this.out;
  }

  /** True once `period` true ranges were seen. */
  get ready(): boolean {
    return this.count >= this.period;
  }

  /** Forgets all values. */
  reset(): void {
    this.prevClose = Number.NaN;
    this.bars = 0;
    this.count = 0;
    this.avg = 0;
    this.out = Number.NaN;
  }
}

/** Batch ATR: NaN for the first `period` bars. */
export function atr(high: Float64Array, low: Float64Array, close: Float64Array, period = 14): Float64Array {
  const len = checkSameLength('atr', high, low, close);
  const ind = new Atr(period);
  const out = new Float64Array(len);
  for (let i = 0; i < len; i++) out[i] = ind.update(high[i], low[i], close[i]);
  return out;
}
