import { checkPeriod } from './params.js';

/**
 * Relative Strength Index with Wilder smoothing (TA-Lib RSI, TTR RSI wilder=TRUE).
 * Average gain/loss are seeded with the simple average of the first `period` changes, then
 * avg = (avg*(period-1) + change)/period. RSI = 100*avgGain/(avgGain+avgLoss) (= 100 - 100/(1+RS));
 * 0 when both averages are 0 (TA-Lib). Warm-up: `period` NaN (the first value needs `period` changes).
 */
export class Rsi {
  readonly period: number;
  private prev = Number.NaN;
  private seen = false;
  private changes = 0;
  private gain = 0;
  private loss = 0;
  private out = Number.NaN;

  /** `period` >= 1 (default 14). */
  constructor(period = 14) {
    this.period = checkPeriod('rsi period', period);
  }

  /** Adds a close; returns the RSI, NaN until `period` changes were seen. */
  update(x: number): number {
    const n = this.period;
    if (!this.seen) {
      this.seen = true;
      this.prev = x;
      return this.out;
    }
    const change = x - this.prev;
    this.prev = x;
    const up = Math.max(change, 0);
    const down = change < 0 ? -change : 0;
    if (this.changes < n) {
      this.gain += up;
      this.loss += down;
      if (++this.changes < n) return this.out;
      this.gain /= n;
      this.loss /= n;
    } else {
      this.gain = (this.gain * (n - 1) + up) / n;
      this.loss = (this.loss * (n - 1) + down) / n;
    }
    const total = this.gain + this.loss;
    this.out = total !== 0 ? (100 * this.gain) / total : 0;
    return this.out;
  }

  /** The latest RSI in [0, 100] (NaN during warm-up). */
  get value(): number {
    return this.out;
  }

  /** True once `period` changes were seen. */
  get ready(): boolean {
    return this.changes >= this.period;
  }

  /** Forgets all values. */
  reset(): void {
    this.prev = Number.NaN;
    this.seen = false;
    this.changes = 0;
    this.gain = 0;
    this.loss = 0;
    this.out = Number.NaN;
  }
}

/** Batch RSI: NaN for the first `period` values. */
export function rsi(x: Float64Array, period = 14): Float64Array {
  const ind = new Rsi(period);
  const out = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = ind.update(x[i]);
  return out;
}
