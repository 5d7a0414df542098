import { z } from 'zod';
import { riskConfigSchema } from './config-risk.js';
import { ValidationError } from './errors.js';

/**
 * Exit rules as configured under `"exits"` (ratios of the entry price; ROI keys are minutes held). They follow
 * Freqtrade's backtesting semantics (see docs/backtesting.md, "Exits"): `stopLoss` is Freqtrade's `stoploss`
 * written as a positive ratio, `roi` its `minimal_roi`, `trailingStop` its `trailing_*` settings.
 * `{"stopLoss": 0.1, "takeProfit": 0.2, "roi": {"0": 0.04, "30": 0.01},
 *   "trailingStop": {"enabled": true, "positive": 0.01, "offset": 0.02, "onlyOffsetReached": true},
 *   "breakeven": {"trigger": 0.02}, "useExitSignal": true, "exitProfitOnly": false, "exitProfitOffset": 0,
 *   "ignoreRoiIfEntrySignal": false}`
 */
export const exitConfigSchema = z.strictObject({
  stopLoss: z.number().positive().max(1).optional(),
  takeProfit: z.number().positive().optional(),
  roi: z
    .record(
      z.string().regex(/^\d+(\.\d+)?$/, 'ROI keys are minutes held, e.g. "0", "30"'),
      z.number().min(-1, 'an ROI ratio below -1 can never be reached'),
    )
    .optional(),
  trailingStop: z
    .strictObject({
      enabled: z.boolean().default(true),
      positive: z.number().positive().max(1).optional(),
      offset: z.number().min(0).optional(),
      onlyOffsetReached: z.boolean().default(false),
    })
    .optional(),
  breakeven: z.strictObject({ trigger: z.number().positive(), offset: z.number().min(0).optional() }).optional(),
  useExitSignal: z.boolean().default(true),
  exitProfitOnly: z.boolean().default(false),
  exitProfitOffset: z.number().default(0),
  ignoreRoiIfEntrySignal: z.boolean().default(false),
});

/** Exit settings as written in a config file. */
export type ExitConfig = z.input<typeof exitConfigSchema>;

/**
 * How much an entry buys: a share of available cash or a fixed quote amount. `perFreeSlot` (Freqtrade's
 * `stake_amount: "unlimited"`) shares that cash among the free trade slots of `maxOpenTrades`.
 */
export type StakeSpec = { kind: 'percent'; value: number; perFreeSlot?: boolean } | { kind: 'amount'; value: number };

/** The default stake of every run, backtest or live: 95% of the available cash. */
export const DEFAULT_STAKE: StakeSpec = { kind: 'percent', value: 95 };

/** The default fee rate (maker and taker) of every run: 0.1%. */
export const DEFAULT_FEE_RATE = 0.001;

/** `"95%"` (share of available cash) or `1000` (quote currency per entry). */
export const stakeSchema = z.union([z.string(), z.number().positive()]);

/**
 * The fields of a run spec (ARCHITECTURE "One run spec"): what a strategy trades and how, identical for a backtest
 * and a deployment. The backtest config adds the simulation settings (data, slippage, latency); a deployment adds
 * its id, venue and capital cap. A field here means the same thing in both.
 */
export const runSpecShape = {
  strategy: z.string(),
  /** A stored strategy version (content hash); the latest when absent. */
  strategyVersion: z.string().optional(),
  params: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).default({}),
  symbols: z.array(z.string()).min(1),
  timeframe: z.string().default('1m'),
  /** Per entry: `"95%"` of available cash (the default) or a quote amount. */
  stake: stakeSchema.optional(),
  /** Fee rate for maker and taker (default 0.001). */
  fee: z.number().min(0).max(0.5).optional(),
  /** Separate maker/taker rates; win over `fee`. */
  fees: z.strictObject({ maker: z.number().min(0).max(0.5), taker: z.number().min(0).max(0.5) }).optional(),
  exits: exitConfigSchema.optional(),
  /** Most positions open at once across the symbols (Freqtrade's `max_open_trades`); entries beyond are skipped. */
  maxOpenTrades: z.number().int().positive().optional(),
  /** Risk settings for this run, merged over the account's `risk` section. */
  risk: riskConfigSchema.optional(),
  allowShort: z.boolean().optional(),
} as const;

/** A validated run spec. */
export const runSpecSchema = z.strictObject(runSpecShape);

/** A run spec as validated (defaults applied). */
export type RunSpec = z.infer<typeof runSpecSchema>;

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

/** The maker/taker fee rates a spec asks for (`fees` wins over `fee`; default 0.1%). */
export function specFees(spec: { fee?: number; fees?: { maker: number; taker: number } }): {
  maker: number;
  taker: number;
} {
  return spec.fees ?? { maker: spec.fee ?? DEFAULT_FEE_RATE, taker: spec.fee ?? DEFAULT_FEE_RATE };
}

/** The stake a spec asks for, as written (`"95%"`, `1000`) or already parsed (default 95% of available cash). */
export function specStake(spec: { stake?: string | number | StakeSpec }): StakeSpec {
  const s = spec.stake;
  if (s === undefined) return DEFAULT_STAKE;
  return typeof s === 'object' ? s : parseStake(s);
}
