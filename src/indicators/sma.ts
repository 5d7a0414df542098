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

  /**
   * `a.update(x[j]) - b.update(x[j])` for each j of [from, to), into `out[0..to-from)`: both averages in one loop
   * (two independent running sums the CPU overlaps), each with exactly `update`'s arithmetic. A crossover's
   * precomputation runs its whole column through it.
   */
  static updateDifference(a: Sma, b: Sma, x: Float64Array, from: number, to: number, out: Float64Array): void {
    const na = a.period;
    const nb = b.period;
    const bufA = a.buf;
    const bufB = b.buf;
    let ka = a.idx;
    let kb = b.idx;
    let ca = a.count;
    let cb = b.count;
    let sa = a.sum;
    let sb = b.sum;
    for (let j = from; j < to; j++) {
      const v = x[j];
      if (ca === na) sa += v - bufA[ka];
      else {
        ca++;
        sa += v;
      }
      bufA[ka] = v;
      if (++ka === na) {
        ka = 0;
        let r = 0;
        for (let i = 0; i < na; i++) r += bufA[i];
        sa = r;
      }
      if (cb === nb) sb += v - bufB[kb];
      else {
        cb++;
        sb += v;
      }
      bufB[kb] = v;
      if (++kb === nb) {
        kb = 0;
        let r = 0;
        for (let i = 0; i < nb; i++) r += bufB[i];
        sb = r;
      }
      out[j - from] = (ca === na ? sa / na : Number.NaN) - (cb === nb ? sb / nb : Number.NaN);
    }
    a.idx = ka;
    a.count = ca;
    a.sum = sa;
    b.idx = kb;
    b.count = cb;
    b.sum = sb;
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
