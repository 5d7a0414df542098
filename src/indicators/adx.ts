import { trueRange } from './atr.js';
import { checkPeriod, checkSameLength } from './params.js';

/** The three ADX output columns. */
export interface AdxColumns {
  adx: Float64Array;
  plusDi: Float64Array;
  minusDi: Float64Array;
}

/**
 * Wilder's Directional Movement system (ADX, +DI, -DI) as TTR ADX / StockCharts. From the second bar:
 * up = high - prevHigh, down = prevLow - low; +DM = up if up > down and up > 0 else 0; -DM symmetric; TR as ATR.
 * +DM, -DM and TR are Wilder-smoothed, seeded with the simple average of the first `period` values;
 * +DI = 100*sm(+DM)/sm(TR), -DI likewise (0 when sm(TR) = 0); DX = 100*|+DI - -DI|/(+DI + -DI) (0 when the sum is
 * 0); ADX = Wilder smoothing of DX seeded with the average of the first `period` DX values.
 * Warm-up: ±DI `period` NaN, ADX 2*period-1 NaN.
 */
export class Adx {
  readonly period: number;
  private prevHigh = Number.NaN;
  private prevLow = Number.NaN;
  private prevClose = Number.NaN;
  private bars = 0;
  private dmCount = 0;
  private dxCount = 0;
  private sPlus = 0;
  private sMinus = 0;
  private sTr = 0;
  private adxAvg = 0;
  private adxValue = Number.NaN;
  private plus = Number.NaN;
  private minus = Number.NaN;

  /** `period` >= 1 (default 14). */
  constructor(period = 14) {
    this.period = checkPeriod('adx period', period);
  }

  /** Adds a bar; returns the ADX (NaN during warm-up). */
  update(high: number, low: number, close: number): number {
    const n = this.period;
    if (this.bars++ === 0) {
      this.prevHigh = high;
      this.prevLow = low;
      this.prevClose = close;
      return this.adxValue;
    }
    const up = high - this.prevHigh;
    const down = this.prevLow - low;
    const pdm = up > down && up > 0 ? up : 0;
    const mdm = down > up && down > 0 ? down : 0;
    const tr = trueRange(high, low, this.prevClose);
    this.prevHigh = high;
    this.prevLow = low;
    this.prevClose = close;
    if (this.dmCount < n) {
      this.sPlus += pdm;
      this.sMinus += mdm;
      this.sTr += tr;
      if (++this.dmCount < n) return this.adxValue;
      this.sPlus /= n;
      this.sMinus /= n;
      this.sTr /= n;
    } else {
      this.sPlus = (this.sPlus * (n - 1) + pdm) / n;
      this.sMinus = (this.sMinus * (n - 1) + mdm) / n;
      this.sTr = (this.sTr * (n - 1) + tr) / n;
    }
    if (this.sTr !== 0) {
      this.plus = (100 * this.sPlus) / this.sTr;
      this.minus = (100 * this.sMinus) / this.sTr;
    } else {
      this.plus = 0;
      this.minus = 0;
    }
    const diSum = this.plus + this.minus;
    const dx = diSum !== 0 ? (100 * Math.abs(this.plus - this.minus)) / diSum : 0;
    if (this.dxCount < n) {
      this.adxAvg += dx;
      if (++this.dxCount < n) return this.adxValue;
      this.adxAvg /= n;
    } else {
      this.adxAvg = (this.adxAvg * (n - 1) + dx) / n;
    }
    this.adxValue = this.adxAvg;
    return this.adxValue;
  }

  /** The ADX, the primary output. */
  get value(): number {
    return this.adxValue;
  }

  /** The ADX (NaN for the first 2*period-1 bars). */
  get adx(): number {
    return this.adxValue;
  }

  /** +DI (NaN for the first `period` bars). */
  get plusDi(): number {
    return this.plus;
  }

  /** -DI (NaN for the first `period` bars). */
  get minusDi(): number {
    return this.minus;
  }

  /** True once the ADX (and so every output) is defined. */
  get ready(): boolean {
    return this.dxCount >= this.period;
  }

  /** Forgets all values. */
  reset(): void {
    this.prevHigh = Number.NaN;
    this.prevLow = Number.NaN;
    this.prevClose = Number.NaN;
    this.bars = 0;
    this.dmCount = 0;
    this.dxCount = 0;
    this.sPlus = 0;
    this.sMinus = 0;
    this.sTr = 0;
    this.adxAvg = 0;
    this.adxValue = Number.NaN;
    this.plus = Number.NaN;
    this.minus = Number.NaN;
  }
}

/** Batch ADX, +DI and -DI. */
export function adx(high: Float64Array, low: Float64Array, close: Float64Array, period = 14): AdxColumns {
  const len = checkSameLength('adx', high, low, close);
  const ind = new Adx(period);
  const out: AdxColumns = {
    adx: new Float64Array(len),
    plusDi: new Float64Array(len),
    minusDi: new Float64Array(len),
  };
  for (let i = 0; i < len; i++) {
    out.adx[i] = ind.update(high[i], low[i], close[i]);
    out.plusDi[i] = ind.plusDi;
    out.minusDi[i] = ind.minusDi;
  }
  return out;
}
