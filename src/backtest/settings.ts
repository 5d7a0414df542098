import { z } from 'zod';
import { ConfigError, ValidationError } from '../core/errors.js';
import { runSpecShape } from '../core/run-spec.js';

const DAY_MS = 86_400_000;

/**
 * The backtest config file (JSON or YAML): the run spec (the same fields as a deployment's, all optional here since
 * the CLI may name them) plus the simulation settings: data, cash, lot, window, slippage, latency.
 */
export const backtestConfigSchema = z.strictObject({
  ...runSpecShape,
  strategy: runSpecShape.strategy.optional(),
  params: runSpecShape.params.optional(),
  symbols: runSpecShape.symbols.optional(),
  timeframe: z.string().optional(),
  data: z.string().optional(),
  cash: z.number().positive().optional(),
  lot: z.number().positive().optional(),
  margin: z.boolean().optional(),
  leverage: z.number().min(1).max(100).optional(),
  from: z.union([z.string(), z.number()]).optional(),
  to: z.union([z.string(), z.number()]).optional(),
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
  periodsPerYear: z.number().positive().optional(),
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

/** Parses `95%` (share of available cash) or `1000` (quote currency per entry); lives with the run spec. */
export { parseStake } from '../core/run-spec.js';

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
