import { checkPeriod } from './params.js';

/**
 * Wilder's moving average (RMA, TradingView's ta.rma): alpha = 1/period, seeded with the SMA of the first
 * `period` values, then rma = (rma*(period-1) + x)/period. The smoothing inside RSI and ATR. Warm-up: period-1 NaN.
 */
export class Rma {
  readonly period: number;
  private count = 0;
  private sum = 0;
  private out = Number.NaN;

  /** `period` >= 1. */
  constructor(period: number) {
    this.period = checkPeriod('rma period', period);
  }

  /** Adds a value; returns the RMA, NaN until `period` values were seen. */
  update(x: number): number {
    const n = this.period;
    if (this.count >= n) {
      this.out = (this.out * (n - 1) + x) / n;
    } else {
      this.sum += x;
      if (++this.count === n) this.out = this.sum / n;
    }
    return this.out;
  }

  /** The latest RMA (NaN during warm-up). */
  get value(): number {
    return this.out;
  }

  /** True once `period` values were seen. */
  get ready(): boolean {
    return this.count >= this.period;
  }

  /** Forgets all values. */
  reset(): void {
    this.count = 0;
    this.sum = 0;
    this.out = Number.NaN;
  }
}

/** Batch RMA: NaN for the first period-1 values. */
export function rma(x: Float64Array, period: number): Float64Array {
  const ind = new Rma(period);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = ind.update(x[i]);
  return out;
}
