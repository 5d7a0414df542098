import { checkPositive, checkSameLength } from './params.js';

/**
 * Volume-weighted average price of the typical price (high+low+close)/3, cumulative from the first bar or, with
 * `resetEveryMs`, from the start of each period (a new period begins when floor(time/resetEveryMs) changes,
 * e.g. 86 400 000 for a UTC-daily session). NaN while the accumulated volume is 0. Warm-up: none.
 */
export class Vwap {
  readonly resetEveryMs: number | undefined;
  private session = Number.NaN;
  private pv = 0;
  private vol = 0;
  private out = Number.NaN;

  /** `resetEveryMs` > 0 when given. */
  constructor(resetEveryMs?: number) {
    this.resetEveryMs = resetEveryMs === undefined ? undefined : checkPositive('vwap reset period', resetEveryMs);
  }

  /** Adds a bar (time in epoch ms); returns the VWAP. */
  update(time: number, high: number, low: number, close: number, volume: number): number {
    if (this.resetEveryMs !== undefined) {
      const session = Math.floor(time / this.resetEveryMs);
      if (session !== this.session) {
        this.session = session;
        this.pv = 0;
        this.vol = 0;
      }
    }
    this.pv += ((high + low + close) / 3) * volume;
    this.vol += volume;
    this.out = this.vol !== 0 ? this.pv / this.vol : Number.NaN;
    return this.out;
  }

  /** The latest VWAP. */
  get value(): number {
    return this.out;
  }

  /** True when the VWAP is defined (some volume traded in the current period). */
  get ready(): boolean {
    return !Number.isNaN(this.out);
  }

  /** Forgets all values. */
  reset(): void {
    this.session = Number.NaN;
    this.pv = 0;
    this.vol = 0;
    this.out = Number.NaN;
  }
}

/** Batch VWAP. */
export function vwap(
  time: Float64Array,
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  volume: Float64Array,
  resetEveryMs?: number,
): Float64Array {
  const len = checkSameLength('vwap', time, high, low, close, volume);
  const ind = new Vwap(resetEveryMs);
  const out = new Float64Array(len);
  for (let i = 0; i < len; i++) out[i] = ind.update(time[i], high[i], low[i], close[i], volume[i]);
  return out;
}
