import { checkPositive } from './params.js';
import { StdDev } from './stddev.js';

/** The three Bollinger Band output columns. */
export interface BollingerColumns {
  upper: Float64Array;
  middle: Float64Array;
  lower: Float64Array;
}

/**
 * Bollinger Bands: middle = SMA(period), upper/lower = middle ± k * population standard deviation over the same
 * window (TA-Lib BBANDS with SMA, TTR BBands sd with divisor n). Warm-up: period-1 NaN.
 */
export class BollingerBands {
  readonly period: number;
  readonly k: number;
  private readonly sd: StdDev;
  private up = Number.NaN;
  private mid = Number.NaN;
  private low = Number.NaN;

  /** `period` >= 1 (default 20), `k` > 0 standard deviations (default 2). */
  constructor(period = 20, k = 2) {
    this.sd = new StdDev(period);
    this.period = this.sd.period;
    this.k = checkPositive('bbands k', k);
  }

  /** Adds a value; returns the middle band (NaN during warm-up). */
  update(x: number): number {
    const s = this.sd.update(x);
    this.mid = this.sd.mean;
    const w = this.k * s;
    this.up = this.mid + w;
    this.low = this.mid - w;
    return this.mid;
  }

  /** The middle band, the primary output. */
  get value(): number {
    return this.mid;
  }

  /** The upper band. */
  get upper(): number {
    return this.up;
  }

  /** The middle band (SMA). */
  get middle(): number {
    return this.mid;
  }

  /** The lower band. */
  get lower(): number {
    return this.low;
  }

  /** True once `period` values were seen. */
  get ready(): boolean {
    return this.sd.ready;
  }

  /** Forgets all values. */
  reset(): void {
    this.sd.reset();
    this.up = Number.NaN;
    this.mid = Number.NaN;
    this.low = Number.NaN;
  }
}

/** Batch Bollinger Bands over `x`. */
export function bbands(x: Float64Array, period = 20, k = 2): BollingerColumns {
  const ind = new BollingerBands(period, k);
  const out: BollingerColumns = {
    upper: new Float64Array(x.length),
    middle: new Float64Array(x.length),
    lower: new Float64Array(x.length),
  };
  for (let i = 0; i < x.length; i++) {
    out.middle[i] = ind.update(x[i]);
    out.upper[i] = ind.upper;
    out.lower[i] = ind.lower;
  }
  return out;
}
