import {
  type BacktestTrialSetup,
  createTrialRunner as createBacktestTrialRunner,
} from '../backtest/optimizer/backtest-trial.js';
import type { TrialRunner } from '../backtest/optimizer/types.js';
import { registerStrategy } from '../strategy/registry.js';
import { resolveStrategy } from './resolve.js';

/**
 * The optimiser's trial module for a strategy file: each worker compiles the file once (gate included) and
 * registers it under its absolute path, then runs trials exactly as for a built-in.
 */
export function createTrialRunner(setup: unknown): TrialRunner {
  const s = setup as BacktestTrialSetup;
  registerStrategy({ ...resolveStrategy(s.strategy), name: s.strategy });
  return createBacktestTrialRunner(s);
}
