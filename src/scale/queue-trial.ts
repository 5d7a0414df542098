import { type BacktestTrialSetup, createTrialRunner as backtestRunner } from '../backtest/optimizer/backtest-trial.js';
import type { TrialRunner } from '../backtest/optimizer/types.js';

/** Setup of a queue worker's trial threads: the backtest trial setup plus strategy plugins to load first. */
export interface QueueTrialSetup {
  /** Module URLs that register strategies (`tradeforge worker --plugin`), imported in each thread before any run. */
  readonly plugins: readonly string[];
  readonly trial: BacktestTrialSetup;
}

/** The trial module of a queue worker's thread pool (TrialModule contract): plugins, then the backtest runner. */
export async function createTrialRunner(setup: unknown): Promise<TrialRunner> {
  const s = setup as QueueTrialSetup;
  for (const url of s.plugins) await import(url);
  return backtestRunner(s.trial);
}
