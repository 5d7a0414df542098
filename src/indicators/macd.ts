import { Ema } from './ema.js';
import { checkPeriod } from './params.js';

/** The three MACD output columns. */
export interface MacdColumns {
  macd: Float64Array;
  signal: Float64Array;
  histogram: Float64Array;
}

/**
 * MACD = EMA(fast) - EMA(slow), each EMA seeded with the SMA of its first values and both started at the first
 * input (TTR MACD; TA-Lib instead starts the fast EMA late, see docs/indicators.md). Signal = EMA(signal) of the
 * MACD line seeded with the SMA of its first `signal` values; histogram = macd - signal.
 * Warm-up: macd slow-1 NaN; signal and histogram slow+signal-2 NaN.
 */
export class Macd {
  readonly fastPeriod: number;
  readonly slowPeriod: number;
  readonly signalPeriod: number;
  private readonly fast: Ema;
  private readonly slow: Ema;
  private readonly sig: Ema;
  private line = Number.NaN;
  private signalValue = Number.NaN;
  private hist = Number.NaN;

  /** Requires 1 <= fast < slow and signal >= 1. */
  constructor(fast = 12, slow = 26, signal = 9) {
    this.fastPeriod = checkPeriod('macd fast period', fast);
    this.slowPeriod = checkPeriod('macd slow period', slow, fast + 1);
    this.signalPeriod = checkPeriod('macd signal period', signal);
    this.fast = new Ema(fast);
    this.slow = new Ema(slow);
    this.sig = new Ema(signal);
  }

  /** Adds a value; returns the MACD line (NaN for the first slow-1 values). */
  update(x: number): number {
    const f = this.fast.update(x);
    const s = this.slow.update(x);
    if (!this.slow.ready) return this.line;
    this.line = f - s;
    this.signalValue = this.sig.update(this.line);
    this.hist = this.line - this.signalValue;
    return this.line;
  }

  /** The MACD line, the primary output. */
  get value(): number {
    return this.line;
  }

  /** The MACD line (NaN during warm-up). */
  get macd(): number {
    return this.line;
  }

  /** The signal line (NaN for the first slow+signal-2 values). */
  get signal(): number {
    return this.signalValue;
  }

  /** macd - signal (NaN while the signal warms up). */
  get histogram(): number {
    return this.hist;
  }

  /** True once all three outputs are defined (the signal line is warm). */
  get ready(): boolean {
    return this.sig.ready;
  }

  /** Forgets all values. */
  reset(): void {
    this.fast.reset();
    this.slow.reset();
    this.sig.reset();
    this.line = Number.NaN;
    this.signalValue = Number.NaN;
    this.hist = Number.NaN;
  }
}

/** Batch MACD over `x`. */
export function macd(x: Float64Array, fast = 12, slow = 26, signal = 9): MacdColumns {
  const ind = new Macd(fast, slow, signal);
  const out: MacdColumns = {
    macd: new Float64Array(x.length),
    signal: new Float64Array(x.length),
    histogram: new Float64Array(x.length),
  };
  for (let i = 0; i < x.length; i++) {
    out.macd[i] = ind.update(x[i]);
    out.signal[i] = ind.signal;
    out.histogram[i] = ind.histogram;
  }
  return out;
}
