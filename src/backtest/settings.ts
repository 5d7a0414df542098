import { z } from 'zod';
import { riskConfigSchema } from '../core/config.js';
import { ConfigError, ValidationError } from '../core/errors.js';
import type { StakeSpec } from '../engine/engine.js';
import { exitConfigSchema } from '../risk/exits.js';

const DAY_MS = 86_400_000;

/** The backtest config file (JSON or YAML): the CLI flags' settings plus `exits` and `risk`. */
export const backtestConfigSchema = z.strictObject({
  data: z.string().optional(),
  strategy: z.string().optional(),
  params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
  timeframe: z.string().optional(),
  cash: z.number().positive().optional(),
  fee: z.number().min(0).max(0.5).optional(),
  fees: z.strictObject({ maker: z.number().min(0).max(0.5), taker: z.number().min(0).max(0.5) }).optional(),
  stake: z.union([z.string(), z.number().positive()]).optional(),
  lot: z.number().positive().optional(),
  allowShort: z.boolean().optional(),
  margin: z.boolean().optional(),
  leverage: z.number().min(1).max(100).optional(),
  from: z.union([z.string(), z.number()]).optional(),
  to: z.union([z.string(), z.number()]).optional(),
  exits: exitConfigSchema.optional(),
  risk: riskConfigSchema.optional(),
  riskDefaults: z.boolean().optional(),
  slippage: z
    .discriminatedUnion('model', [
      z.strictObject({ model: z.literal('none') }),
      z.strictObject({ model: z.literal('fixed'), amount: z.number().min(0) }),
      z.strictObject({ model: z.literal('percentage'), rate: z.number().min(0).max(0.5) }),
      z.strictObject({
        model: z.literal('volume-share'),
        priceImpact: z.number().min(0).optional(),
        volumeLimit: z.number().positive().max(1).optional(),
      }),
    ])
    .optional(),
  participation: z.number().positive().max(1).optional(),
  latency: z.strictObject({ bars: z.number().int().min(0).optional(), ms: z.number().min(0).optional() }).optional(),
  marketFill: z.enum(['next_open', 'close']).optional(),
  tradingDaysPerYear: z.number().int().min(1).max(366).optional(),
});

/** A parsed backtest config file. */
export type BacktestConfig = z.infer<typeof backtestConfigSchema>;

/** Validates a config object read from `file`; the first problem becomes a ConfigError naming the key. */
export function parseBacktestConfig(raw: unknown, file: string): BacktestConfig {
  const r = backtestConfigSchema.safeParse(raw ?? {});
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const key = issue.path.map(String).join('.') || '(root)';
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`
      : issue.message;
  throw new ConfigError(key, `${message} (in ${file})`);
}

/** Parses `95%` (share of available cash) or `1000` (quote currency per entry). */
export function parseStake(value: string | number): StakeSpec {
  if (typeof value === 'number') {
    if (!(value > 0)) throw new ValidationError(`stake must be positive, got ${value}`, 'stake');
    return { kind: 'amount', value };
  }
  const t = value.trim();
  const pct = /^(\d+(?:\.\d+)?)\s*%$/.exec(t);
  if (pct) {
    const p = Number(pct[1]);
    if (!(p > 0 && p <= 100)) throw new ValidationError(`stake percentage must be in (0, 100], got ${t}`, 'stake');
    return { kind: 'percent', value: p };
  }
  const n = Number(t);
  if (t === '' || !Number.isFinite(n) || n <= 0) {
    throw new ValidationError(`stake must be like 95% or 1000, got "${value}"`, 'stake');
  }
  return { kind: 'amount', value: n };
}

/**
 * Parses a date bound: epoch ms, or an ISO date/time (UTC). A date without a time as an upper bound includes
 * that whole day.
 */
export function parseDateBound(value: string | number, bound: 'from' | 'to'): number {
  if (typeof value === 'number') return value;
  const t = value.trim();
  if (/^\d{10,}$/.test(t)) return Number(t);
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(t);
  const ms = Date.parse(dateOnly ? `${t}T00:00:00Z` : t);
  if (!Number.isFinite(ms))
    throw new ValidationError(`--${bound}: cannot read date "${value}" (use YYYY-MM-DD)`, bound);
  return dateOnly && bound === 'to' ? ms + DAY_MS - 1 : ms;
}
