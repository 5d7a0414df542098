import { checkPeriod } from './params.js';

/**
 * Simple moving average over `period` values (TA-Lib SMA). Warm-up: period-1 NaN.
 * The running sum is re-added from the ring buffer every `period` updates so rounding error cannot accumulate.
 */
export class Sma {
  readonly period: number;
  private readonly buf: Float64Array;
  private idx = 0;
  private count = 0;
  private sum = 0;
  private out = Number.NaN;

  /** `period` >= 1. */
  constructor(period: number) {
    this.period = checkPeriod('sma period', period);
    this.buf = new Float64Array(this.period);
  }

  /** Adds a value; returns the average, NaN until `period` values were seen. */
  update(x: number): number {
    const n = this.period;
    if (this.count < n) {
      this.count++;
      this.sum += x;
    } else {
      this.sum += x - this.buf[this.idx];
    }
    this.buf[this.idx] = x;
    if (++this.idx === n) {
      this.idx = 0;
      let s = 0;
      for (let i = 0; i < n; i++) s += this.buf[i];
      this.sum = s;
    }
    this.out = this.count === n ? this.sum / n : Number.NaN;
    return this.out;
  }

  /** The latest average (NaN during warm-up). */
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
    this.out = Number.NaN;
  }
}

/** Batch SMA: same length as `x`, NaN for the first period-1 values. */
export function sma(x: Float64Array, period: number): Float64Array {
  const ind = new Sma(period);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = ind.update(x[i]);
  return out;
}
