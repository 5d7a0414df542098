import { checkPeriod } from './params.js';

/** Receives the rows where a difference of two lines changes sign (`Sma.differenceCrossings`). */
export interface CrossingSink {
  push(row: number, up: boolean): void;
}

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
   * Runs `d = a.update(x[j]) - b.update(x[j])` for j in [0, n) (exactly `update`'s arithmetic) and tells `sink`
   * each row where d turns positive from <= 0 (up) or negative from >= 0 (down); NaN (warm-up) fails both tests,
   * and the difference before row 0 counts as NaN. Returns the last d. A crossover's precomputation runs its
   * whole column through it: one pass, and no count tests once both windows are full.
   */
  static differenceCrossings(a: Sma, b: Sma, x: Float64Array, n: number, sink: CrossingSink): number {
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
    let p = Number.NaN;
    let j = 0;
    // Until both windows are full of this column's values, each update goes through the ring buffers with the count
    // tests, as `update` does (the windows may hold values from before this call).
    const m = na > nb ? na : nb;
    for (; j < n && (ca < na || cb < nb || j < m); j++) {
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
      const d = (ca === na ? sa / na : Number.NaN) - (cb === nb ? sb / nb : Number.NaN);
      if (d > 0 && p <= 0) sink.push(j, true);
      else if (d < 0 && p >= 0) sink.push(j, false);
      p = d;
    }
    // From row m on, the value leaving a window is the column's x[j - period] and a window re-added at its wrap is
    // x[j - period + 1 .. j] (the ring buffer's index order at that moment): the same operations on the same values,
    // read from the column, with no buffer writes and no count tests (measured 5.4 ms against 5.8 ms on 1M rows).
    const steady = j;
    for (; j < n; j++) {
      const v = x[j];
      sa += v - x[j - na];
      if (++ka === na) {
        ka = 0;
        let r = 0;
        for (let i = j - na + 1; i <= j; i++) r += x[i];
        sa = r;
      }
      sb += v - x[j - nb];
      if (++kb === nb) {
        kb = 0;
        let r = 0;
        for (let i = j - nb + 1; i <= j; i++) r += x[i];
        sb = r;
      }
      const d = sa / na - sb / nb;
      if (d > 0 && p <= 0) sink.push(j, true);
      else if (d < 0 && p >= 0) sink.push(j, false);
      p = d;
    }
    if (j > steady) {
      // The ring buffers as `update` would have left them: row j - i sits at index ka - i (mod period).
      for (let i = 1; i <= na; i++) bufA[(ka - i + na) % na] = x[j - i];
      for (let i = 1; i <= nb; i++) bufB[(kb - i + nb) % nb] = x[j - i];
    }
    a.idx = ka;
    a.count = ca;
    a.sum = sa;
    b.idx = kb;
    b.count = cb;
    b.sum = sb;
    return p;
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
