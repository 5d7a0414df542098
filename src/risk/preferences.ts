/**
 * Risk preferences: the account limits a user may change while the runtime runs (UI-5), their validation by the
 * config file's own risk schema, and whether a change tightens or loosens. Pure: the runtime persists and applies.
 */
import { z } from 'zod';
import { type RiskConfig, riskConfigSchema } from '../core/config-risk.js';
import { mergeRiskConfig } from './defaults.js';

/** The editable limits, as dotted keys of the risk config. Every one is tighter when smaller. */
export const RISK_PREFERENCE_KEYS = [
  'maxOrderNotional',
  'maxPositionNotional',
  'capitalCap',
  'maxGrossExposure',
  'maxConcentration',
  'breakers.dailyLoss',
  'breakers.emergencyLoss',
  'breakers.maxDrawdown',
  'breakers.consecutiveLosses',
] as const;

/** One editable limit. */
export type RiskPreferenceKey = (typeof RISK_PREFERENCE_KEYS)[number];

/** Saved preferences: each key's value, as the config file would write it (only the keys set). */
export type RiskPreferences = Partial<Record<RiskPreferenceKey, number>>;

const breakerShape = riskConfigSchema.shape.breakers.unwrap().shape;

// Each key validated by the config file's own schema for that key (one home for ranges and messages).
const KEY_SCHEMAS: Record<RiskPreferenceKey, z.ZodType<number | undefined>> = {
  maxOrderNotional: riskConfigSchema.shape.maxOrderNotional,
  maxPositionNotional: riskConfigSchema.shape.maxPositionNotional,
  capitalCap: riskConfigSchema.shape.capitalCap,
  maxGrossExposure: riskConfigSchema.shape.maxGrossExposure,
  maxConcentration: riskConfigSchema.shape.maxConcentration,
  'breakers.dailyLoss': breakerShape.dailyLoss,
  'breakers.emergencyLoss': breakerShape.emergencyLoss,
  'breakers.maxDrawdown': breakerShape.maxDrawdown,
  'breakers.consecutiveLosses': breakerShape.consecutiveLosses,
};

/**
 * A change request: a number sets a key, `null` drops the saved value (back to the config file's). Each value is
 * checked by the risk config schema's rule for that key.
 */
export const riskPreferencesPatchSchema = z.strictObject(
  Object.fromEntries(
    RISK_PREFERENCE_KEYS.map((k) => [
      k,
      z
        .number()
        .nullable()
        .optional()
        .superRefine((v, ctx) => {
          if (v === null || v === undefined) return;
          const r = KEY_SCHEMAS[k].safeParse(v);
          if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message });
        }),
    ]),
  ) as Record<RiskPreferenceKey, z.ZodOptional<z.ZodNullable<z.ZodNumber>>>,
);

/** A change request's parsed form. */
export type RiskPreferencesPatch = z.infer<typeof riskPreferencesPatchSchema>;

/** Reads one dotted key of a risk config. */
export function preferenceValue(config: RiskConfig, key: RiskPreferenceKey): number | undefined {
  if (key.startsWith('breakers.')) {
    const b = config.breakers as Record<string, unknown> | undefined;
    const v = b?.[key.slice('breakers.'.length)];
    return typeof v === 'number' ? v : undefined;
  }
  const v = (config as Record<string, unknown>)[key];
  return typeof v === 'number' ? v : undefined;
}

/** The config's editable limits, flattened (keys without a value are absent). */
export function preferencesOf(config: RiskConfig): RiskPreferences {
  const out: RiskPreferences = {};
  for (const k of RISK_PREFERENCE_KEYS) {
    const v = preferenceValue(config, k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** The saved preferences as a risk config fragment (`{breakers: {dailyLoss}}` ...), to merge over the file's. */
export function preferencesAsConfig(prefs: RiskPreferences): RiskConfig {
  const out: Record<string, unknown> = {};
  const breakers: Record<string, number> = {};
  for (const k of RISK_PREFERENCE_KEYS) {
    const v = prefs[k];
    if (v === undefined) continue;
    if (k.startsWith('breakers.')) breakers[k.slice('breakers.'.length)] = v;
    else out[k] = v;
  }
  if (Object.keys(breakers).length > 0) out.breakers = breakers;
  return out as RiskConfig;
}

/** The effective account config: the saved preferences over the file's (which is already over the defaults). */
export function withPreferences(base: RiskConfig, prefs: RiskPreferences): RiskConfig {
  return mergeRiskConfig(base, preferencesAsConfig(prefs));
}

/** The saved preferences after a patch (null drops a key). */
export function patchPreferences(saved: RiskPreferences, patch: RiskPreferencesPatch): RiskPreferences {
  const out: RiskPreferences = { ...saved };
  for (const k of RISK_PREFERENCE_KEYS) {
    const v = patch[k];
    if (v === null) delete out[k];
    else if (v !== undefined) out[k] = v;
  }
  return out;
}

/** One limit that a change raises or removes. */
export interface Loosening {
  key: RiskPreferenceKey;
  from: number;
  /** The new value; undefined when the limit goes away. */
  to: number | undefined;
}

/**
 * The limits that `after` loosens relative to `before`: raised, or removed. Setting a limit that was absent, or
 * lowering one, tightens (every editable limit is tighter when smaller).
 */
export function loosenings(before: RiskConfig, after: RiskConfig): Loosening[] {
  const out: Loosening[] = [];
  for (const key of RISK_PREFERENCE_KEYS) {
    const from = preferenceValue(before, key);
    const to = preferenceValue(after, key);
    if (from === undefined) continue;
    if (to === undefined || to > from) out.push({ key, from, to });
  }
  return out;
}
