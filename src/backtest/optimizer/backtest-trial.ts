import type { BarColumns } from '../../core/bar.js';
import { ValidationError } from '../../core/errors.js';
import type { Timeframe } from '../../core/timeframe.js';
import { buildRiskHook } from '../risk-wiring.js';
import { type BacktestOptions, runBacktest } from '../runner.js';
import type { RiskSettings } from './run-setup.js';
import type { TrialRunner } from './types.js';
import { viewColumns } from './warmup.js';

/** Run settings every trial shares (plain data: they cross to the workers once). */
export type SharedRunOptions = Omit<
  BacktestOptions,
  'data' | 'strategy' | 'params' | 'bus' | 'log' | 'risk' | 'from' | 'to'
>;

/** Setup of the backtest trial module: the data (shared columns), the strategy and the run settings. */
export interface BacktestTrialSetup {
  readonly symbol: string;
  readonly timeframe: Timeframe;
  /** Put SharedArrayBuffer-backed columns here (shareColumns) so workers do not copy them. */
  readonly columns: BarColumns;
  readonly strategy: string;
  readonly options: SharedRunOptions;
  /** Risk rules as data; each worker builds its own risk engine (a hook holds state and functions). */
  readonly risk?: RiskSettings;
}

/**
 * Builds the trial runner that backtests one parameter point on a window of the data (zero-copy views; the
 * strategy warms up inside the window). The strategy's parameter validation decides what is `skipped`
 * (a ValidationError, e.g. fast >= slow); any other error propagates as a failed trial.
 */
export function createTrialRunner(setup: unknown): TrialRunner {
  const s = setup as BacktestTrialSetup;
  const riskSettings = s.risk;
  return (req) => {
    // A fresh risk engine per trial: breakers and counters must not leak from one run into the next.
    const risk = riskSettings ? buildRiskHook(riskSettings.config, riskSettings.defaults) : undefined;
    const columns = req.window ? viewColumns(s.columns, req.window.from, req.window.to) : s.columns;
    try {
      const r = runBacktest({
        ...s.options,
        data: { symbol: s.symbol, timeframe: s.timeframe, columns },
        strategy: s.strategy,
        params: req.params,
        ...(risk ? { risk } : {}),
      });
      return { status: 'ok', metrics: r.metrics, fingerprint: r.fingerprint };
    } catch (err) {
      if (err instanceof ValidationError) return { status: 'skipped', reason: err.message };
      throw err;
    }
  };
}
