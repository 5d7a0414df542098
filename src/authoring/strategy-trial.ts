import {
  type BacktestTrialSetup,
  createTrialRunner as createBacktestTrialRunner,
} from '../backtest/optimizer/backtest-trial.js';
import type { TrialRunner } from '../backtest/optimizer/types.js';
import { registerStrategy } from '../strategy/registry.js';
import { resolveStrategy } from './resolve.js';
import { guardedStrategy } from './sandbox/trial-guard.js';

/**
 * The optimiser's trial module for a strategy file: each worker compiles the file once (gate included) and
 * registers it under its absolute path, then runs trials exactly as for a built-in. With the pool's sandbox guard
 * (sandbox/trial-guard.ts) the load and every callback are marked for its CPU watchdog.
 */
export function createTrialRunner(setup: unknown, guard?: unknown): TrialRunner {
  const s = setup as BacktestTrialSetup;
  registerStrategy({ ...guardedStrategy(guard, () => resolveStrategy(s.strategy)), name: s.strategy });
  return createBacktestTrialRunner(s);
}
