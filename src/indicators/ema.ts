import { checkPeriod } from './params.js';

/**
 * Exponential moving average, alpha = 2/(period+1), seeded with the SMA of the first `period` values
 * (TA-Lib EMA / TTR EMA). Warm-up: period-1 NaN.
 */
export class Ema {
  readonly period: number;
  private readonly alpha: number;
  private count = 0;
  private seedSum = 0;
  private out = Number.NaN;

  /** `period` >= 1. */
  constructor(period: number) {
    this.period = checkPeriod('ema period', period);
    this.alpha = 2 / (this.period + 1);
  }

  /** Adds a value; returns the EMA, NaN until `period` values were seen. */
  update(x: number): number {
    const n = this.period;
    if (this.count >= n) {
      this.out = (x - this.out) * this.alpha + this.out;
    } else {
      this.seedSum += x;
      if (++this.count === n) this.out = this.seedSum / n;
    }
    return this.out;
  }

  /** The latest EMA (NaN during warm-up). */
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
    this.seedSum = 0;
    this.out = Number.NaN;
  }
}

/** Batch EMA: NaN for the first period-1 values. */
export function ema(x: Float64Array, period: number): Float64Array {
  const ind = new Ema(period);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = ind.update(x[i]);
  return out;
}
