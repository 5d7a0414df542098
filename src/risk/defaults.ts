import type { RiskConfig } from '../core/config.js';

function deepFreeze<T extends object>(o: T): T {
  for (const v of Object.values(o)) if (typeof v === 'object' && v !== null) deepFreeze(v);
  return Object.freeze(o);
}

/**
 * The live defaults of issue #4 / SPEC RISK-2..5. Paper and live deployments always start from these; a backtest
 * uses them only with `--risk-defaults`. Limits that depend on the account's size (notional caps, capital cap)
 * have no default: they must be configured.
 */
export const LIVE_RISK_DEFAULTS: RiskConfig = deepFreeze({
  maxGrossExposure: 1.0,
  maxConcentration: 0.5,
  priceBandAtr: 3,
  marginFloor: 0.2,
  orderRate: { perMinute: 10, perSecond: 5 },
  duplicateSignals: true,
  staleOrderMinutes: { buy: 10, sell: 30 },
  breakers: {
    dailyLoss: 0.05,
    emergencyLoss: 0.1,
    maxDrawdown: 0.15,
    consecutiveLosses: 5,
    stoplossGuard: { trades: 3, lookbackMinutes: 1440, lockMinutes: 1440 },
    cooldownMinutes: 0,
  },
  dryRun: false,
});

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    const b = out[k];
    out[k] = isPlainObject(b) && isPlainObject(v) ? deepMerge(b, v) : structuredClone(v);
  }
  return out;
}

/**
 * `over` merged onto `base` key by key (nested objects merged, not replaced), as a fresh object: a strategy
 * override `{breakers: {dailyLoss: 0.02}}` keeps the other breakers of the account.
 */
export function mergeRiskConfig(base: RiskConfig, over: RiskConfig | undefined): RiskConfig {
  return deepMerge(
    structuredClone(base) as Record<string, unknown>,
    (over ?? {}) as Record<string, unknown>,
  ) as RiskConfig;
}
