/** The risk engine (SPEC RISK-1..6, RISK-9): pre-trade rules, sizing, breakers, kill switch, dry-run. */
import { type RiskConfig, riskConfigSchema } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { EventBus } from '../core/events.js';
import type { EngineMode } from '../core/risk-port.js';
import { LIVE_RISK_DEFAULTS, mergeRiskConfig } from './defaults.js';
import { RiskEngine } from './engine.js';
import { busPublisher, type RiskPublisher } from './publisher.js';
import type { PreTradeRule } from './rules.js';

export * from './account.js';
export * from './breakers.js';
export * from './defaults.js';
export * from './duplicate-signals.js';
export * from './engine.js';
export * from './publisher.js';
export * from './request-budget.js';
export * from './rules.js';
export * from './simple-view.js';
export * from './sizing.js';
export * from './sliding-window.js';
export * from './stale-orders.js';

/** Options of createRiskEngine. */
export interface CreateRiskEngineOptions {
  /** Merge the config over LIVE_RISK_DEFAULTS. Always on in paper and live; a backtest opts in (`--risk-defaults`). */
  useDefaults: boolean;
  mode: EngineMode;
  publish?: RiskPublisher;
  /** Alternative to `publish`: events go to this bus with source `risk`. */
  bus?: EventBus;
  /** Per-strategy overrides keyed by strategyId (e.g. a deployment's `risk`). */
  strategyOverrides?: Record<string, unknown>;
  maxEvents?: number;
  /** Further pre-trade rules (e.g. a prop-firm rule set, RISK-7), run after the built-in ones. */
  extraRules?: readonly PreTradeRule[];
  /** Called whenever the engine's persisted state changes (see RiskEngineOptions.onStateChange). */
  onStateChange?: () => void;
}

function parseRisk(raw: unknown, where: string): RiskConfig {
  const r = riskConfigSchema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const key = [where, ...issue.path.map(String)].join('.');
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
      : issue.message;
  throw new ConfigError(key, message);
}

/**
 * Builds the RiskEngine for a run. In a backtest without `useDefaults` only the rules the config names apply (a
 * plain backtest measures the strategy alone); otherwise the config is merged over LIVE_RISK_DEFAULTS. Throws
 * ConfigError naming the key for a bad config, and for dry-run in live mode.
 */
export function createRiskEngine(config: RiskConfig | undefined, opts: CreateRiskEngineOptions): RiskEngine {
  const account = parseRisk(config, 'risk');
  const useDefaults = opts.useDefaults || opts.mode !== 'backtest';
  const effective = useDefaults ? mergeRiskConfig(LIVE_RISK_DEFAULTS, account) : account;
  const overrides: Record<string, RiskConfig> = {};
  for (const [id, raw] of Object.entries(opts.strategyOverrides ?? {})) {
    overrides[id] = parseRisk(raw, `risk.strategyOverrides.${id}`);
  }
  return new RiskEngine(effective, {
    mode: opts.mode,
    strategyOverrides: overrides,
    ...(opts.publish ? { publish: opts.publish } : opts.bus ? { publish: busPublisher(opts.bus) } : {}),
    ...(opts.maxEvents !== undefined ? { maxEvents: opts.maxEvents } : {}),
    ...(opts.extraRules ? { extraRules: opts.extraRules } : {}),
    ...(opts.onStateChange ? { onStateChange: opts.onStateChange } : {}),
  });
}
