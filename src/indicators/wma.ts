import { checkPeriod } from './params.js';

/**
 * Linearly weighted moving average: weights 1..period, the newest value weighted `period`, divided by
 * period*(period+1)/2 (TA-Lib WMA). Warm-up: period-1 NaN. O(1) by sliding the plain and weighted sums;
 * both are recomputed from the ring buffer every `period` updates to stop rounding drift.
 */
export class Wma {
  readonly period: number;
  private readonly buf: Float64Array;
  private readonly divisor: number;
  private idx = 0;
  private count = 0;
  private sum = 0;
  private weighted = 0;
  private out = Number.NaN;

  /** `period` >= 1. */
  constructor(period: number) {
    this.period = checkPeriod('wma period', period);
    this.buf = new Float64Array(this.period);
    this.divisor = (this.period * (this.period + 1)) / 2;
  }

  /** Adds a value; returns the WMA, NaN until `period` values were seen. */
  update(x: number): number {
    const n = this.period;
    if (this.count < n) {
      this.count++;
      this.weighted += this.count * x;
      this.sum += x;
    } else {
      // Every older value loses one weight step, the oldest drops out, the new one enters with weight n.
      this.weighted += n * x - this.sum;
      this.sum += x - this.buf[this.idx];
    }
    this.buf[this.idx] = x;
    if (++this.idx === n) {
      this.idx = 0;
      // The buffer now holds the window oldest-first, so slot i carries weight i+1.
      let s = 0;
      let w = 0;
      for (let i = 0; i < n; i++) {
        s += this.buf[i];
        w += (i + 1) * this.buf[i];
      }
      this.sum = s;
      this.weighted = w;
    }
    this.out = this.count === n ? this.weighted / this.divisor : Number.NaN;
    return this.out;
  }

  /** The latest WMA (NaN during warm-up). */
  get value(): number {
    return this.out;
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
    this.weighted = 0;
    this.out = Number.NaN;
  }
}

/** Batch WMA: NaN for the first period-1 values. */
export function wma(x: Float64Array, period: number): Float64Array {
  const ind = new Wma(period);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = ind.update(x[i]);
  return out;
}
