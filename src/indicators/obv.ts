import { checkSameLength } from './params.js';

/**
 * On-Balance Volume (TA-Lib OBV, TTR OBV): starts at the first bar's volume, then adds the volume when the close
 * rises, subtracts it when the close falls, and keeps it when the close is unchanged. Warm-up: none.
 */
export class Obv {
  private prevClose = Number.NaN;
  private seen = false;
  private out = Number.NaN;

  /** Adds a bar; returns the OBV. */
  update(close: number, volume: number): number {
    if (!this.seen) {
      this.seen = true;
      this.out = volume;
    } else if (close > this.prevClose) {
      this.out += volume;
    } else if (close < this.prevClose) {
      this.out -= volume;
    }
    this.prevClose = close;
    return this.out;
  }

  /** The latest OBV (NaN before the first bar). */
  get value(): number {
    return this.out;
  }

  /** True after the first bar. */
  get ready(): boolean {
    return this.seen;
  }

  /** Forgets all values. */
  reset(): void {
    this.prevClose = Number.NaN;
    this.seen = false;
    this.out = Number.NaN;
  }
}

/** Batch OBV. */
export function obv(close: Float64Array, volume: Float64Array): Float64Array {
  const len = checkSameLength('obv', close, volume);
  const ind = new Obv();
  const out = new Float64Array(len);
  for (let i = 0; i < len; i++) out[i] = ind.update(close[i], volume[i]);
  return out;
}
