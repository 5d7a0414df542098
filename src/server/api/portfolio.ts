/**
 * Portfolio figures of the live account (UI-3): drawdown along the equity curve, Sharpe and max drawdown by the
 * backtests' own metrics (`backtest/metrics.ts`), and the allocation by symbol, strategy and venue by the risk
 * analytics' exposure breakdown (`risk/exposure.ts`). Pure.
 */
import { computeMetrics } from '../../backtest/metrics.js';
import type { ControlPosition } from '../../ops/control-port.js';
import { type ExposureBreakdown, exposureBreakdown } from '../../risk/exposure.js';
import type { EquityPoint } from './port.js';

/** Drawdown at one point of the curve: percent below the running peak. */
export interface DrawdownPoint {
  time: number;
  drawdownPct: number;
}

/** The curve's figures. */
export interface EquityFigures {
  /** Annualised Sharpe of the returns between points (the curve's median spacing annualises); null when undefined. */
  sharpe: number | null;
  maxDrawdownPct: number;
  maxDrawdownAbs: number;
  /** The curve's first and last equity and the return between them, in percent. */
  startEquity: number | null;
  endEquity: number | null;
  returnPct: number | null;
  /** Equity points a year by the curve's median spacing (what Sharpe is annualised with). */
  pointsPerYear: number;
  drawdown: DrawdownPoint[];
}

/** Drawdown series, Sharpe and max drawdown of an equity curve (the metrics a backtest reports, on live equity). */
export function equityFigures(points: readonly EquityPoint[]): EquityFigures {
  const n = points.length;
  const time = new Float64Array(n);
  const value = new Float64Array(n);
  points.forEach((p, i) => {
    time[i] = p.time;
    value[i] = p.equity;
  });
  const start = n > 0 ? value[0] : 0;
  const m = computeMetrics({ trades: [], equity: { time, value }, initialCash: start });
  const drawdown: DrawdownPoint[] = [];
  let peak = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    if (value[i] > peak) peak = value[i];
    drawdown.push({ time: time[i], drawdownPct: peak > 0 ? ((peak - value[i]) / peak) * 100 : 0 });
  }
  return {
    sharpe: m.sharpe,
    maxDrawdownPct: m.maxDrawdownPct,
    maxDrawdownAbs: m.maxDrawdownAbs,
    startEquity: n > 0 ? start : null,
    endEquity: n > 0 ? value[n - 1] : null,
    returnPct: n > 0 ? m.totalReturnPct : null,
    pointsPerYear: m.barsPerYear,
    drawdown,
  };
}

/** The allocation of open positions (valued at their mark, or entry price without one) by symbol, strategy, venue. */
export function allocation(positions: readonly ControlPosition[], equity: number): ExposureBreakdown {
  return exposureBreakdown(
    positions.map((p) => ({
      symbol: p.symbol,
      ...(p.strategyId !== undefined ? { strategy: p.strategyId } : {}),
      ...(p.venue !== undefined ? { venue: p.venue } : {}),
      value: (p.side === 'long' ? 1 : -1) * p.quantity * (p.markPrice ?? p.entryPrice),
    })),
    equity,
  );
}
