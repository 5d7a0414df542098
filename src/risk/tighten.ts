/**
 * Whether a deployment's own risk settings only tighten the account's (a deployment created over the API may make
 * its limits stricter, never looser). Pure: compares two risk configs key by key.
 */
import type { RiskConfig } from '../core/config.js';
import { LIVE_RISK_DEFAULTS, mergeRiskConfig } from './defaults.js';

/** Limits where a smaller number is stricter. */
const LOWER_IS_TIGHTER = new Set([
  'maxOrderNotional',
  'maxPositionNotional',
  'capitalCap',
  'maxConcentration',
  'priceBandAtr',
  'orderRate.perMinute',
  'orderRate.perSecond',
  'staleOrderMinutes.buy',
  'staleOrderMinutes.sell',
]);

/** Limits where a larger number is stricter. */
const HIGHER_IS_TIGHTER = new Set(['marginFloor', 'insufficientFunds.feeRate']);

/** Switches that are stricter when on. */
const ON_IS_TIGHTER = new Set(['duplicateSignals']);

/** One key of a deployment's risk settings that would loosen the account's, with the reason. */
export interface Loosening {
  /** Dotted key inside `risk` (e.g. `maxOrderNotional`). */
  key: string;
  message: string;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The keys of `over` that are not a tightening of `account` (the account's config merged over the live defaults, as
 * the runtime runs it). A limit the account leaves unset may take any value; a key that is not a limit with a known
 * direction (sizing, account-wide breakers) is refused, since it could loosen.
 */
export function looseningsOf(over: RiskConfig, account: RiskConfig | undefined): Loosening[] {
  const effective = mergeRiskConfig(LIVE_RISK_DEFAULTS, account) as Record<string, unknown>;
  const out: Loosening[] = [];
  const walk = (o: Record<string, unknown>, base: unknown, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      if (v === undefined) continue;
      const key = `${prefix}${k}`;
      const was = isObject(base) ? base[k] : undefined;
      if (isObject(v)) {
        walk(v, was, `${key}.`);
        continue;
      }
      if (typeof v === 'number' && LOWER_IS_TIGHTER.has(key)) {
        if (typeof was === 'number' && v > was) out.push({ key, message: `${v} is looser than the account's ${was}` });
      } else if (typeof v === 'number' && HIGHER_IS_TIGHTER.has(key)) {
        if (typeof was === 'number' && v < was) out.push({ key, message: `${v} is looser than the account's ${was}` });
      } else if (typeof v === 'boolean' && ON_IS_TIGHTER.has(key)) {
        if (!v && was === true) out.push({ key, message: "turning it off loosens the account's setting" });
      } else {
        out.push({ key, message: 'not a limit a deployment may tighten here (set it in the config file)' });
      }
    }
  };
  walk(over as Record<string, unknown>, effective, '');
  return out;
}
