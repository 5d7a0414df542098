import { checkPeriod, checkSameLength } from './params.js';

/**
 * Commodity Channel Index (TA-Lib CCI, TTR CCI): typical price tp = (high+low+close)/3,
 * CCI = (tp - SMA(tp)) / (0.015 * mean absolute deviation of tp around that SMA); 0 when the deviation is 0
 * (TA-Lib). Warm-up: period-1 NaN. The mean deviation needs a pass over the window, so an update costs
 * O(period) (a constant for a given indicator) with no allocation, as in TA-Lib.
 */
export class Cci {
  readonly period: number;
  private readonly buf: Float64Array;
  private idx = 0;
  private count = 0;
  private out = Number.NaN;

  /** `period` >= 1 (default 20). */
  constructor(period = 20) {
    this.period = checkPeriod('cci period', period);
    this.buf = new Float64Array(this.period);
  }

  /** Adds a bar; returns the CCI (NaN during warm-up). */
  update(high: number, low: number, close: number): number {
    const n = this.period;
    const tp = (high + low + close) / 3;
    if (this.count < n) this.count++;
    this.buf[this.idx] = tp;
    if (++this.idx === n) this.idx = 0;
    if (this.count < n) return this.out;
    // The deviation pass is O(period) anyway, so the mean is summed afresh too (no running-sum drift).
    let s = 0;
    for (let i = 0; i < n; i++) s += this.buf[i];
    const mean = s / n;
    let dev = 0;
    for (let i = 0; i < n; i++) dev += Math.abs(this.buf[i] - mean);
    dev /= n;
    const diff = tp - mean;
    this.out = dev !== 0 && diff !== 0 ? diff / (0.015 * dev) : 0;
    return this.out;
  }

  /** The latest CCI (NaN during warm-up). */
  get value(): number {
    return this.out;
  }

  /** True once `period` bars were seen. */
  get ready(): boolean {
    return this.count === this.period;
  }

  /** Forgets all values. */
  reset(): void {
    this.idx = 0;
    this.count = 0;
    this.out = Number.NaN;
  }
}

/** Batch CCI: NaN for the first period-1 bars. */
export function cci(high: Float64Array, low: Float64Array, close: Float64Array, period = 20): Float64Array {
  const len = checkSameLength('cci', high, low, close);
  const ind = new Cci(period);
  const out = new Float64Array(len);
  for (let i = 0; i < len; i++) out[i] = ind.update(high[i], low[i], close[i]);
  return out;
}
