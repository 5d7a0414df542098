import type { RiskConfig } from '../core/config.js';
import type { EventBus } from '../core/events.js';
import { PASS_THROUGH_RISK, type RiskHook } from '../core/risk-port.js';
import { createRiskEngine } from '../risk/index.js';

/**
 * The one place a backtest gets its RiskHook. Without a `risk` section and without `--risk-defaults` a plain
 * backtest measures the strategy alone (pass-through); otherwise the risk engine applies the rules the config
 * names, merged over the live defaults when `useDefaults` is set. Breaker and kill-switch events go to `bus`.
 * A risk engine is stateful: build one per run.
 */
export function buildRiskHook(riskConfig: RiskConfig | undefined, useDefaults: boolean, bus?: EventBus): RiskHook {
  const empty = riskConfig === undefined || Object.keys(riskConfig).length === 0;
  if (empty && !useDefaults) return PASS_THROUGH_RISK;
  return createRiskEngine(riskConfig, { useDefaults, mode: 'backtest', ...(bus ? { bus } : {}) });
}
