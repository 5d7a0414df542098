import { checkPeriod, checkSameLength } from './params.js';
import { RollingExtreme } from './rolling-extreme.js';
import { Sma } from './sma.js';

/** The two Stochastic output columns. */
export interface StochasticColumns {
  k: Float64Array;
  d: Float64Array;
}

/**
 * Slow Stochastic (TA-Lib STOCH with SMA smoothing): fast %K = 100*(close - lowest low)/(highest high - lowest low)
 * over `kPeriod` bars (0 when the range is 0, as TA-Lib); %K = SMA(kSmooth) of fast %K; %D = SMA(dPeriod) of %K.
 * kSmooth = 1 gives the fast stochastic. Warm-up: %K kPeriod+kSmooth-2 NaN, %D kPeriod+kSmooth+dPeriod-3 NaN
 * (TA-Lib trims %K to the %D start; we keep the earlier %K values).
 */
export class Stochastic {
  readonly kPeriod: number;
  readonly kSmooth: number;
  readonly dPeriod: number;
  private readonly highest: RollingExtreme;
  private readonly lowest: RollingExtreme;
  private readonly kAvg: Sma;
  private readonly dAvg: Sma;
  private kValue = Number.NaN;
  private dValue = Number.NaN;

  /** All periods >= 1 (defaults 14, 3, 3). */
  constructor(kPeriod = 14, kSmooth = 3, dPeriod = 3) {
    this.kPeriod = checkPeriod('stochastic k period', kPeriod);
    this.kSmooth = checkPeriod('stochastic k smoothing', kSmooth);
    this.dPeriod = checkPeriod('stochastic d period', dPeriod);
    this.highest = new RollingExtreme(kPeriod, true);
    this.lowest = new RollingExtreme(kPeriod, false);
    this.kAvg = new Sma(kSmooth);
    this.dAvg = new Sma(dPeriod);
  }

  /** Adds a bar; returns %K (NaN during warm-up). */
  update(high: number, low: number, close: number): number {
    const hh = this.highest.push(high);
    const ll = this.lowest.push(low);
    if (this.highest.count < this.kPeriod) return this.kValue;
    const range = hh - ll;
    const fastK = range !== 0 ? ((close - ll) / range) * 100 : 0;
    this.kValue = this.kAvg.update(fastK);
    if (this.kAvg.ready) this.dValue = this.dAvg.update(this.kValue);
    return this.kValue;
  }

  /** %K, the primary output. */
  get value(): number {
    return this.kValue;
  }

  /** Smoothed %K. */
  get k(): number {
    return this.kValue;
  }

  /** %D, the SMA of %K. */
  get d(): number {
    return this.dValue;
  }

  /** True once both %K and %D are defined. */
  get ready(): boolean {
    return this.dAvg.ready;
  }

  /** Forgets all values. */
  reset(): void {
    this.highest.reset();
    this.lowest.reset();
    this.kAvg.reset();
    this.dAvg.reset();
    this.kValue = Number.NaN;
    this.dValue = Number.NaN;
  }
}

/** Batch slow Stochastic. */
export function stochastic(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  kPeriod = 14,
  kSmooth = 3,
  dPeriod = 3,
): StochasticColumns {
  const len = checkSameLength('stochastic', high, low, close);
  const ind = new Stochastic(kPeriod, kSmooth, dPeriod);
  const out: StochasticColumns = { k: new Float64Array(len), d: new Float64Array(len) };
  for (let i = 0; i < len; i++) {
    out.k[i] = ind.update(high[i], low[i], close[i]);
    out.d[i] = ind.d;
  }
  return out;
}
