import { checkPeriod } from './params.js';

/**
 * Rolling population standard deviation (divide by n, as TA-Lib STDDEV and Bollinger Bands). Warm-up: period-1 NaN.
 * Sums slide in O(1) over values shifted by a recent window mean `shift`, so the sum of squares stays at the scale
 * of the window's spread rather than of the price (no cancellation when a tiny deviation rides on a large price);
 * every `period` updates the sums and the shift are recomputed exactly from the ring buffer, so no error
 * accumulates over millions of values.
 */
export class StdDev {
  readonly period: number;
  private readonly buf: Float64Array;
  private idx = 0;
  private count = 0;
  private sum = 0;
  private shift = Number.NaN;
  private sumY = 0;
  private sumY2 = 0;
  private avg = Number.NaN;
  private out = Number.NaN;

  /** `period` >= 1. */
  constructor(period: number) {
    this.period = checkPeriod('stddev period', period);
    this.buf = new Float64Array(this.period);
  }

  /** Adds a value; returns the standard deviation, NaN until `period` values were seen. */
  update(x: number): number {
    const n = this.period;
    if (this.count === 0) this.shift = x;
    const y = x - this.shift;
    if (this.count < n) {
      this.count++;
      this.sum += x;
      this.sumY += y;
      this.sumY2 += y * y;
    } else {
      const old = this.buf[this.idx];
      const yo = old - this.shift;
      this.sum += x - old;
      this.sumY += y - yo;
      this.sumY2 += y * y - yo * yo;
    }
    this.buf[this.idx] = x;
    if (++this.idx === n) {
      this.idx = 0;
      let s = 0;
      for (let i = 0; i < n; i++) s += this.buf[i];
      const k = s / n;
      let sy = 0;
      let sy2 = 0;
      for (let i = 0; i < n; i++) {
        const d = this.buf[i] - k;
        sy += d;
        sy2 += d * d;
      }
      this.sum = s;
      this.shift = k;
      this.sumY = sy;
      this.sumY2 = sy2;
    }
    if (this.count === n) {
      this.avg = this.sum / n;
      const variance = (this.sumY2 - (this.sumY * this.sumY) / n) / n;
      this.out = variance > 0 ? Math.sqrt(variance) : 0;
    } else {
      this.avg = Number.NaN;
      this.out = Number.NaN;
    }
    return this.out;
  }

  /** The latest standard deviation (NaN during warm-up). */
  get value(): number {
    return this.out;
  }

  /** The mean of the current window, bit-identical to `Sma` of the same period (NaN during warm-up). */
  get mean(): number {
    return this.avg;
  }

  /** True once `period` values were seen. */
  get ready(): boolean {
    return this.count === this.period;
  }

  /** Forgets all values. */
  reset(): void {
    this.idx = 0;
    this.count = 0;
    this.sum = 0;
    this.shift = Number.NaN;
    this.sumY = 0;
    this.sumY2 = 0;
    this.avg = Number.NaN;
    this.out = Number.NaN;
  }
}

/** Batch rolling population standard deviation: NaN for the first period-1 values. */
export function stddev(x: Float64Array, period: number): Float64Array {
  const ind = new StdDev(period);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = ind.update(x[i]);
  return out;
}
