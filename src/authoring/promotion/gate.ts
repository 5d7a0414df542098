/**
 * The promotion gate (DEPLOY-2): the static safety gate passed, and a walk-forward backtest of the version with its
 * stored parameters meets the thresholds on each in-sample window and does not fail them on the out-of-sample
 * window that follows. Pure: the data comes in as columns.
 */
import type { Metrics } from '../../backtest/metrics.js';
import { walkForwardFolds } from '../../backtest/optimizer/walk-forward.js';
import { viewColumns } from '../../backtest/optimizer/warmup.js';
import { type BacktestData, type BacktestOptions, runBacktest } from '../../backtest/runner.js';
import type { ParamValues, StrategyDefinition } from '../../strategy/types.js';
import type { GateThresholds } from './policy.js';

/** The metrics the gate judges, as recorded with a transition. */
export interface GateMetrics {
  readonly bars: number;
  readonly trades: number;
  readonly sharpe: number | null;
  readonly maxDrawdownPct: number;
  readonly winRatePct: number | null;
  readonly totalReturnPct: number | null;
}

/** One walk-forward fold's in-sample and out-of-sample results. */
export interface GateFold {
  readonly inSample: GateMetrics;
  readonly outOfSample: GateMetrics;
}

/** What the gate judges: the safety gate's verdict and the folds' backtests. */
export interface GateEvaluation {
  readonly safety: { readonly ok: boolean; readonly findings: readonly string[] };
  readonly folds: readonly GateFold[];
}

/** The gate's decision. */
export interface GateVerdict {
  readonly passed: boolean;
  /** One sentence per failed check (empty when passed). */
  readonly reasons: readonly string[];
}

/** How the walk-forward splits the data. */
export interface WalkForwardSplit {
  /** Folds (default 1: the first 75 % in sample, the rest out of sample). */
  readonly folds?: number;
  /** In-sample share of each fold's window (default 0.75). */
  readonly inSampleRatio?: number;
}

/** The metrics the gate keeps of a backtest's metrics. */
export function gateMetrics(m: Metrics): GateMetrics {
  return {
    bars: m.bars,
    trades: m.trades,
    sharpe: m.sharpe,
    maxDrawdownPct: m.maxDrawdownPct,
    winRatePct: m.winRatePct,
    totalReturnPct: m.totalReturnPct,
  };
}

/** Backtests one window `[from, to)` of the data (bar indices) and gives its metrics. */
export type WindowBacktest = (from: number, to: number) => Promise<Metrics>;

/**
 * The walk-forward folds of `bars` bars, each window backtested by `runWindow` (e.g. in the sandbox backtest worker,
 * for code), one after another.
 */
export async function evaluateWalkForwardWith(
  bars: number,
  split: WalkForwardSplit,
  runWindow: WindowBacktest,
): Promise<GateFold[]> {
  const out: GateFold[] = [];
  for (const f of walkForwardFolds(bars, split.folds ?? 1, split.inSampleRatio ?? 0.75)) {
    const inSample = gateMetrics(await runWindow(f.inSample.from, f.inSample.to));
    const outOfSample = gateMetrics(await runWindow(f.outOfSample.from, f.outOfSample.to));
    out.push({ inSample, outOfSample });
  }
  return out;
}

/**
 * Backtests a strategy on each walk-forward window of `data` (each window warms the strategy up inside itself, as the
 * optimiser's walk-forward does). `run` carries the run settings (cash, fee, stake, exits, risk).
 */
export function evaluateWalkForward(
  def: StrategyDefinition,
  params: ParamValues,
  data: BacktestData,
  split: WalkForwardSplit = {},
  run: Omit<BacktestOptions, 'data' | 'strategy' | 'params' | 'from' | 'to'> = {},
): GateFold[] {
  const folds = walkForwardFolds(data.columns.length, split.folds ?? 1, split.inSampleRatio ?? 0.75);
  const on = (from: number, to: number) =>
    gateMetrics(
      runBacktest({
        ...run,
        data: { ...data, columns: viewColumns(data.columns, from, to) },
        strategy: def,
        params,
      }).metrics,
    );
  return folds.map((f) => ({
    inSample: on(f.inSample.from, f.inSample.to),
    outOfSample: on(f.outOfSample.from, f.outOfSample.to),
  }));
}

const fmt = (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(2));

/** The thresholds `m` fails, one sentence each; `minTrades` is the trade count asked of this window. */
export function thresholdFailures(m: GateMetrics, t: GateThresholds, minTrades: number): string[] {
  const out: string[] = [];
  if (m.sharpe === null || m.sharpe < t.minSharpe)
    out.push(`Sharpe ${m.sharpe === null ? 'undefined' : fmt(m.sharpe)} is below ${t.minSharpe}`);
  if (m.maxDrawdownPct > t.maxDrawdownPct)
    out.push(`max drawdown ${fmt(m.maxDrawdownPct)}% is above ${t.maxDrawdownPct}%`);
  if (m.winRatePct === null || m.winRatePct < t.minWinRatePct)
    out.push(
      `win rate ${m.winRatePct === null ? 'undefined (no trades)' : `${fmt(m.winRatePct)}%`} is below ${t.minWinRatePct}%`,
    );
  if (m.trades < minTrades) out.push(`${m.trades} trades are fewer than ${minTrades}`);
  return out;
}

/**
 * The trades asked of an out-of-sample window: the in-sample minimum scaled by the window's length against its
 * in-sample window's (a shorter window has room for fewer trades), rounded up, at least 1.
 */
export function outOfSampleMinTrades(t: GateThresholds, inSampleBars: number, outOfSampleBars: number): number {
  return Math.max(1, Math.ceil((t.minTrades * outOfSampleBars) / Math.max(1, inSampleBars)));
}

/** Judges an evaluation against the thresholds: every reason it is refused, or passed. */
export function judgeGate(e: GateEvaluation, t: GateThresholds): GateVerdict {
  const reasons: string[] = [];
  if (!e.safety.ok) reasons.push(`the safety gate refused the source: ${e.safety.findings.join('; ')}`);
  if (e.folds.length === 0) reasons.push('no backtest was run');
  const many = e.folds.length > 1;
  for (const [i, f] of e.folds.entries()) {
    const tag = many ? ` (fold ${i + 1})` : '';
    for (const r of thresholdFailures(f.inSample, t, t.minTrades)) reasons.push(`in sample${tag}: ${r}`);
    const oosTrades = outOfSampleMinTrades(t, f.inSample.bars, f.outOfSample.bars);
    for (const r of thresholdFailures(f.outOfSample, t, oosTrades)) reasons.push(`out of sample${tag}: ${r}`);
  }
  return { passed: reasons.length === 0, reasons };
}
