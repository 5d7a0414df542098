import { type BacktestTrialSetup, createTrialRunner as backtestRunner } from '../backtest/optimizer/backtest-trial.js';
import type { TrialRunner } from '../backtest/optimizer/types.js';
import { compileStoredVersion, type StoredVersion } from '../authoring/versions.js';
import { guardedStrategy } from '../authoring/sandbox/trial-guard.js';
import { registerStrategy } from '../strategy/registry.js';

/** Setup of a queue worker's trial threads: the backtest trial setup plus strategy plugins to load first. */
export interface QueueTrialSetup {
  /** Module URLs that register strategies (`tradeforge worker --plugin`), imported in each thread before any run. */
  readonly plugins: readonly string[];
  readonly trial: BacktestTrialSetup;
  /** A stored strategy version (`trial.strategy` is its `ID@vN`), compiled in each thread after a hash check. */
  readonly version?: StoredVersion;
}

/**
 * The trial module of a queue worker's thread pool (TrialModule contract): plugins and the stored strategy version,
 * then the backtest runner.
 */
export async function createTrialRunner(setup: unknown, guard?: unknown): Promise<TrialRunner> {
  const s = setup as QueueTrialSetup;
  for (const url of s.plugins) await import(url);
  const version = s.version;
  if (version !== undefined) {
    // Gate, hash check and the same in-thread sandbox realm a local backtest of the file uses; with the pool's
    // sandbox guard (authoring/sandbox/trial-guard.ts) the load and every callback run under its CPU watchdog.
    registerStrategy({ ...guardedStrategy(guard, () => compileStoredVersion(version)), name: s.trial.strategy });
  }
  return backtestRunner(s.trial);
}
