import { checkPeriod, checkSameLength } from './params.js';
import { RollingExtreme } from './rolling-extreme.js';

/** The three Donchian channel output columns. */
export interface DonchianColumns {
  upper: Float64Array;
  lower: Float64Array;
  middle: Float64Array;
}

/**
 * Donchian channel (TTR DonchianChannel): upper = highest high and lower = lowest low of the last `period` bars
 * including the current one; middle = (upper + lower)/2. Warm-up: period-1 NaN.
 */
export class Donchian {
  readonly period: number;
  private readonly highest: RollingExtreme;
  private readonly lowest: RollingExtreme;
  private up = Number.NaN;
  private low = Number.NaN;
  private mid = Number.NaN;

  /** `period` >= 1 (default 20). */
  constructor(period = 20) {
    this.period = checkPeriod('donchian period', period);
    this.highest = new RollingExtreme(this.period, true);
    this.lowest = new RollingExtreme(this.period, false);
  }

  /** Adds a bar; returns the middle line (NaN during warm-up). */
  update(high: number, low: number): number {
    const hh = this.highest.push(high);
    const ll = this.lowest.push(low);
    if (this.highest.count < this.period) return this.mid;
    this.up = hh;
    this.low = ll;
    this.mid = (hh + ll) / 2;
    return this.mid;
  }

  /** The middle line, the primary output. */
  get value(): number {
    return this.mid;
  }

  /** Highest high of the window. */
  get upper(): number {
    return this.up;
  }

  /** Lowest low of the window. */
  get lower(): number {
    return this.low;
  }

  /** (upper + lower)/2. */
  get middle(): number {
    return this.mid;
  }

  /** True once `period` bars were seen. */
  get ready(): boolean {
    return this.highest.count >= this.period;
  }

  /** Forgets all values. */
  reset(): void {
    this.highest.reset();
    this.lowest.reset();
    this.up = Number.NaN;
    this.low = Number.NaN;
    this.mid = Number.NaN;
  }
}

/** Batch Donchian channel. */
export function donchian(high: Float64Array, low: Float64Array, period = 20): DonchianColumns {
  const len = checkSameLength('donchian', high, low);
  const ind = new Donchian(period);
  const out: DonchianColumns = {
    upper: new Float64Array(len),
    lower: new Float64Array(len),
    middle: new Float64Array(len),
  };
  for (let i = 0; i < len; i++) {
    out.middle[i] = ind.update(high[i], low[i]);
    out.upper[i] = ind.upper;
    out.lower[i] = ind.lower;
  }
  return out;
}
