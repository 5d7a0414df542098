import { checkPeriod } from './params.js';

/**
 * Rate of change in percent: 100*(x[t]/x[t-period] - 1) (TA-Lib ROC). 0 when x[t-period] is 0 (TA-Lib).
 * Warm-up: `period` NaN.
 */
export class Roc {
  readonly period: number;
  private readonly buf: Float64Array;
  private idx = 0;
  private count = 0;
  private out = Number.NaN;

  /** `period` >= 1. */
  constructor(period: number) {
    this.period = checkPeriod('roc period', period);
    this.buf = new Float64Array(this.period);
  }

  /** Adds a value; returns the ROC, NaN until `period`+1 values were seen. */
  update(x: number): number {
    if (this.count < this.period) {
      this.count++;
    } else {
      const old = this.buf[this.idx];
      this.out = old !== 0 ? (x / old - 1) * 100 : 0;
    }
    this.buf[this.idx] = x;
    if (++this.idx === this.period) this.idx = 0;
    return this.out;
  }

  /** The latest ROC in percent (NaN during warm-up). */
  get value(): number {
    return this.out;
  }

  /** True once a value `period` steps back exists. */
  get ready(): boolean {
    return !Number.isNaN(this.out);
  }

  /** Forgets all values. */
  reset(): void {
    this.idx = 0;
    this.count = 0;
    this.out = Number.NaN;
  }
}

/** Batch ROC: NaN for the first `period` values. */
export function roc(x: Float64Array, period: number): Float64Array {
  const ind = new Roc(period);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = ind.update(x[i]);
  return out;
}
