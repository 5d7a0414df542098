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

  /** `period` >= 1. */
  constructor(period: number) {
    this.period = checkPeriod('sma period', period);
    this.buf = new Float64Array(this.period);
  }

  /** Adds a value; returns the average, NaN until `period` values were seen. */
  update(x: number): number {
    const n = this.period;
    const buf = this.buf;
    let k = this.idx;
    if (this.count === n) {
      // (x - oldest) first, then into the sum: the operation order every stored result was computed with.
      this.sum += x - buf[k];
    } else {
      this.count++;
      this.sum += x;
    }
    buf[k] = x;
    if (++k === n) {
      k = 0;
      this.resum();
    }
    this.idx = k;
    return this.count === n ? this.sum / n : Number.NaN;
  }

  // Once per window: the sum re-added from the buffer (in index order) so rounding error cannot accumulate.
  // Out of line so the per-update path stays small enough to inline into callers.
  private resum(): void {
    const buf = this.buf;
    const n = this.period;
    let s = 0;
    for (let i = 0; i < n; i++) s += buf[i];
    this.sum = s;
  }

  /** The latest average (NaN during warm-up): the same division `update` returned, not a stored copy. */
  get value(): number {
    return this.count === this.period ? this.sum / this.period : Number.NaN;
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
  }
}

/** Batch SMA: same length as `x`, NaN for the first period-1 values. */
export function sma(x: Float64Array, period: number): Float64Array {
  const ind = new Sma(period);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = ind.update(x[i]);
  return out;
}
