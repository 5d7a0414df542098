import { ValidationError } from '../core/errors.js';

/**
 * Value at risk and expected shortfall (RISK-8). Losses are positive numbers in account currency: a 95% 1-day VaR
 * of 1 000 means the portfolio loses more than 1 000 on one day in twenty.
 */

/**
 * Inverse of the standard normal CDF by Acklam's rational approximation (relative error below 1.2e-9), so
 * parametric VaR needs no dependency.
 */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new ValidationError(`normal quantile needs 0 < p < 1, got ${p}`, 'p');
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  let x: number;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - lo) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  return x;
}

/** Standard normal density. */
export function normalPdf(x: number): number {
  return Math.exp(-(x * x) / 2) / Math.sqrt(2 * Math.PI);
}

/** One VaR/ES figure. */
export interface VarFigure {
  method: 'historical' | 'parametric';
  confidence: number;
  horizonDays: number;
  /** Loss not exceeded with probability `confidence` over the horizon (positive = a loss). */
  var: number;
  /** Mean loss beyond the VaR (expected shortfall / CVaR). */
  es: number;
  /** Observations behind the figure (h-day windows for historical). */
  observations: number;
}

/**
 * Sums of `h` consecutive P&Ls (overlapping windows): the h-day P&L series historical VaR reads. h = 1 returns
 * the series itself.
 */
export function horizonPnl(pnl: readonly number[], h: number): number[] {
  if (h === 1) return [...pnl];
  const out: number[] = [];
  let s = 0;
  for (let i = 0; i < pnl.length; i++) {
    s += pnl[i];
    if (i >= h) s -= pnl[i - h];
    if (i >= h - 1) out.push(s);
  }
  return out;
}

/**
 * Historical VaR and ES of a P&L series at `confidence` over `h` days. With n observations (h-day overlapping
 * sums) and k = ⌈n·(1 − confidence)⌉, VaR is minus the k-th smallest P&L (the empirical (1 − c) quantile) and ES
 * minus the mean of the k smallest. Throws when fewer than ⌈1/(1 − c)⌉ observations exist (no tail to read).
 */
export function historicalVar(pnl: readonly number[], confidence: number, h = 1): VarFigure {
  checkConfidence(confidence);
  const series = horizonPnl(pnl, h).sort((x, y) => x - y);
  const n = series.length;
  // Rounding guards against 100 × 0.05 = 5.000000000000001 turning k from 5 into 6.
  const k = Math.ceil(Math.round(n * (1 - confidence) * 1e9) / 1e9);
  if (k < 1 || n < Math.ceil(1 / (1 - confidence))) {
    throw new ValidationError(
      `historical ${confidence * 100}% ${h}-day VaR needs at least ${Math.ceil(1 / (1 - confidence))} observations, got ${n}`,
      'history',
    );
  }
  let tail = 0;
  for (let i = 0; i < k; i++) tail += series[i];
  return { method: 'historical', confidence, horizonDays: h, var: -series[k - 1], es: -tail / k, observations: n };
}

/**
 * Parametric (normal) VaR and ES over `h` days from the daily P&L mean μ and standard deviation σ (i.i.d.
 * days: mean μh, deviation σ√h): VaR = zσ√h − μh, ES = σ√h·φ(z)/(1 − c) − μh, z = Φ⁻¹(c).
 */
export function parametricVar(mean: number, stdev: number, confidence: number, h = 1, observations = 0): VarFigure {
  checkConfidence(confidence);
  const z = normalQuantile(confidence);
  const s = stdev * Math.sqrt(h);
  const m = mean * h;
  return {
    method: 'parametric',
    confidence,
    horizonDays: h,
    var: z * s - m,
    es: (s * normalPdf(z)) / (1 - confidence) - m,
    observations,
  };
}

/** Sample mean and standard deviation (n − 1). */
export function meanStdev(xs: readonly number[]): { mean: number; stdev: number } {
  const n = xs.length;
  if (n < 2) throw new ValidationError(`needs at least 2 observations, got ${n}`, 'history');
  let m = 0;
  for (const x of xs) m += x;
  m /= n;
  let v = 0;
  for (const x of xs) v += (x - m) * (x - m);
  return { mean: m, stdev: Math.sqrt(v / (n - 1)) };
}

/** One position valued for risk: its value (signed: short is negative) and the symbol's daily return series. */
export interface RiskPosition {
  symbol: string;
  /** Signed value: quantity × price × multiplier. */
  value: number;
}

/**
 * The portfolio's daily P&L series if today's positions had been held over the history: Σ valueᵢ × rᵢ,t, with
 * rᵢ,t the symbol's simple daily returns aligned on common dates (`returns[symbol][t]`).
 */
export function portfolioPnl(
  positions: readonly RiskPosition[],
  returns: Readonly<Record<string, readonly number[]>>,
): number[] {
  const lens = positions.map((p) => {
    const r = returns[p.symbol];
    if (r === undefined) throw new ValidationError(`no return history for ${p.symbol}`, p.symbol);
    return r.length;
  });
  const n = lens.length ? Math.min(...lens) : 0;
  const out = new Array<number>(n).fill(0);
  for (const p of positions) {
    const r = returns[p.symbol];
    const off = r.length - n; // align on the most recent n days
    for (let t = 0; t < n; t++) out[t] += p.value * r[off + t];
  }
  return out;
}

/**
 * Portfolio daily P&L mean and deviation from position values and the return covariance (σ² = wᵀΣw): the
 * variance-covariance method. Identical to meanStdev(portfolioPnl(...)) on the same aligned history.
 */
export function portfolioMoments(
  positions: readonly RiskPosition[],
  returns: Readonly<Record<string, readonly number[]>>,
): { mean: number; stdev: number } {
  const n = Math.min(...positions.map((p) => returns[p.symbol]?.length ?? 0));
  if (!(n >= 2)) throw new ValidationError(`parametric VaR needs at least 2 aligned returns, got ${n}`, 'history');
  const series = positions.map((p) => {
    const r = returns[p.symbol];
    return r.slice(r.length - n);
  });
  const means = series.map((r) => r.reduce((s, x) => s + x, 0) / n);
  let mean = 0;
  for (let i = 0; i < positions.length; i++) mean += positions[i].value * means[i];
  let variance = 0;
  for (let i = 0; i < positions.length; i++) {
    for (let j = 0; j < positions.length; j++) {
      let cov = 0;
      for (let t = 0; t < n; t++) cov += (series[i][t] - means[i]) * (series[j][t] - means[j]);
      variance += positions[i].value * positions[j].value * (cov / (n - 1));
    }
  }
  return { mean, stdev: Math.sqrt(Math.max(0, variance)) };
}

/** Simple returns of a close series: rₜ = cₜ / cₜ₋₁ − 1. */
export function simpleReturns(closes: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let i = 1; i < closes.length; i++) out.push(closes[i] / closes[i - 1] - 1);
  return out;
}

function checkConfidence(c: number): void {
  if (!(c > 0.5 && c < 1)) throw new ValidationError(`confidence must be between 0.5 and 1, got ${c}`, 'confidence');
}
