import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import type { DayBoundary } from './trading-day.js';

/**
 * The parameters of one prop-firm account (RISK-7), in account currency. A published rule set is a template
 * that builds these for an account size; `custom` takes them as configured.
 */
export interface PropFirmParams {
  /** Account size at the start (FTMO's "Initial Simulated Capital"). */
  initialBalance: number;
  dayBoundary: DayBoundary;
  /**
   * Daily loss: equity may not fall to `anchor − amount` within a trading day. The anchor is the balance at the
   * day boundary (`balance`), or the higher of balance and equity then (`max-balance-equity`). `breach: 'day'`
   * only halts the rest of the day (Topstep's soft breach); `'account'` fails the account (FTMO).
   */
  dailyLoss?: { amount: number; anchor: 'balance' | 'max-balance-equity'; breach: 'day' | 'account' };
  /**
   * Maximum loss: equity may not fall to the floor. `none`: initial − amount for good. `eod-balance`: the highest
   * end-of-day balance (or the initial balance, if higher) − amount, recomputed at each day boundary.
   * `intraday-equity`: the highest equity seen (open profit included) − amount, at every update. The floor only
   * rises, and stops at `lockAt` when set (Topstep: the initial balance; Apex: initial + 100).
   */
  maxLoss: { amount: number; trailing: 'none' | 'eod-balance' | 'intraday-equity'; lockAt?: number };
  /** Profit over the initial balance needed to pass. */
  profitTarget?: number;
  /** Distinct trading days (days with a fill) needed to pass. */
  minTradingDays?: number;
  /**
   * Best-day rule: the most profitable day's P&L may be at most `maxBestDayShare` of the total profit
   * (`total-profit`) or of the profit target (`profit-target`) for the account to pass. Not a breach.
   */
  consistency?: { maxBestDayShare: number; of: 'total-profit' | 'profit-target' };
}

/** A published, versioned rule set: where the numbers come from and how they scale with the account size. */
export interface PropFirmRuleSet {
  id: string;
  /** The rule revision the numbers reproduce (firms change terms; an old account keeps its version). */
  version: string;
  name: string;
  /** The firm's page the parameters were taken from. */
  source: string;
  /** Account sizes the firm offers; undefined = any size (percentages of the initial balance). */
  sizes?: readonly number[];
  defaultSize: number;
  build(size: number): PropFirmParams;
}

const PRAGUE_MIDNIGHT: DayBoundary = { timeZone: 'Europe/Prague', time: '00:00' };
const CHICAGO_1700: DayBoundary = { timeZone: 'America/Chicago', time: '17:00' };

const ftmo2Step = (target: number, id: string, name: string): PropFirmRuleSet => ({
  id,
  version: '2025-06',
  name,
  source: 'https://academy.ftmo.com/lesson/maximum-daily-loss',
  defaultSize: 100_000,
  build: (size) => ({
    initialBalance: size,
    dayBoundary: PRAGUE_MIDNIGHT,
    dailyLoss: { amount: size * 0.05, anchor: 'balance', breach: 'account' },
    maxLoss: { amount: size * 0.1, trailing: 'none' },
    profitTarget: size * target,
    minTradingDays: 4,
  }),
});

const topstep = (size: number, mll: number, dll: number, target: number) => ({ size, mll, dll, target });
const TOPSTEP = [
  topstep(50_000, 2_000, 1_000, 3_000),
  topstep(100_000, 3_000, 2_000, 6_000),
  topstep(150_000, 4_500, 3_000, 9_000),
];
const APEX = [
  { size: 25_000, trail: 1_500, target: 1_500 },
  { size: 50_000, trail: 2_500, target: 3_000 },
  { size: 100_000, trail: 3_000, target: 6_000 },
  { size: 150_000, trail: 5_000, target: 9_000 },
];

/** Every built-in rule set, newest version of an id first. */
export const PROP_FIRM_RULE_SETS: readonly PropFirmRuleSet[] = [
  ftmo2Step(0.1, 'ftmo-2step', 'FTMO Challenge 2-Step, phase 1 (Challenge)'),
  ftmo2Step(0.05, 'ftmo-2step-verification', 'FTMO Challenge 2-Step, phase 2 (Verification)'),
  {
    id: 'ftmo-1step',
    version: '2025-06',
    name: 'FTMO Challenge 1-Step',
    source: 'https://ftmo.com/au/?p=1671',
    defaultSize: 100_000,
    build: (size) => ({
      initialBalance: size,
      dayBoundary: PRAGUE_MIDNIGHT,
      dailyLoss: { amount: size * 0.03, anchor: 'balance', breach: 'account' },
      maxLoss: { amount: size * 0.1, trailing: 'eod-balance' },
      profitTarget: size * 0.1,
      consistency: { maxBestDayShare: 0.5, of: 'total-profit' },
    }),
  },
  {
    id: 'topstep',
    version: '2025-01',
    name: 'Topstep Trading Combine',
    source: 'https://help.topstep.com/en/articles/8284204-what-is-the-maximum-loss-limit',
    sizes: TOPSTEP.map((t) => t.size),
    defaultSize: 50_000,
    build: (size) => {
      const t = TOPSTEP.find((x) => x.size === size) ?? TOPSTEP[0];
      return {
        initialBalance: t.size,
        dayBoundary: CHICAGO_1700,
        dailyLoss: { amount: t.dll, anchor: 'balance', breach: 'day' },
        maxLoss: { amount: t.mll, trailing: 'eod-balance', lockAt: t.size },
        profitTarget: t.target,
        consistency: { maxBestDayShare: 0.5, of: 'total-profit' },
      };
    },
  },
  {
    id: 'apex',
    version: '2024-09',
    name: 'Apex Trader Funding evaluation (intraday trailing threshold)',
    source: 'https://apextraderfunding.com/help-center/',
    sizes: APEX.map((a) => a.size),
    defaultSize: 50_000,
    build: (size) => {
      const a = APEX.find((x) => x.size === size) ?? APEX[1];
      return {
        initialBalance: a.size,
        dayBoundary: CHICAGO_1700,
        maxLoss: { amount: a.trail, trailing: 'intraday-equity', lockAt: a.size + 100 },
        profitTarget: a.target,
        minTradingDays: 7,
      };
    },
  },
];

const boundarySchema = z.strictObject({ timeZone: z.string().min(1), time: z.string() });

/** The `risk.propFirm.custom` parameters (amounts in account currency). */
export const customParamsSchema = z.strictObject({
  initialBalance: z.number().positive(),
  dayBoundary: boundarySchema,
  dailyLoss: z
    .strictObject({
      amount: z.number().positive(),
      anchor: z.enum(['balance', 'max-balance-equity']).default('balance'),
      breach: z.enum(['day', 'account']).default('account'),
    })
    .optional(),
  maxLoss: z.strictObject({
    amount: z.number().positive(),
    trailing: z.enum(['none', 'eod-balance', 'intraday-equity']).default('none'),
    lockAt: z.number().positive().optional(),
  }),
  profitTarget: z.number().positive().optional(),
  minTradingDays: z.number().int().positive().optional(),
  consistency: z
    .strictObject({
      maxBestDayShare: z.number().positive().max(1),
      of: z.enum(['total-profit', 'profit-target']).default('total-profit'),
    })
    .optional(),
});

/** A resolved rule set: which published rules (or custom) and the parameters for this account. */
export interface ResolvedRuleSet {
  /** "id@version" (or "custom"). */
  label: string;
  name: string;
  source?: string;
  params: PropFirmParams;
}

/**
 * Finds a rule set by "id" (newest version) or "id@version" and builds it for `size` (the set's default when
 * omitted). Throws ConfigError naming `where` for an unknown id, version or size.
 */
export function resolveRuleSet(ref: string, size?: number, where = 'risk.propFirm.rules'): ResolvedRuleSet {
  const [id, version] = ref.split('@') as [string, string | undefined];
  const candidates = PROP_FIRM_RULE_SETS.filter((r) => r.id === id);
  if (candidates.length === 0) {
    const known = [...new Set(PROP_FIRM_RULE_SETS.map((r) => r.id))].join(', ');
    throw new ConfigError(where, `unknown prop-firm rule set "${id}" (known: ${known}, custom)`);
  }
  const set = version === undefined ? candidates[0] : candidates.find((r) => r.version === version);
  if (set === undefined) {
    throw new ConfigError(
      where,
      `rule set "${id}" has no version "${version}" (known: ${candidates.map((r) => r.version).join(', ')})`,
    );
  }
  const s = size ?? set.defaultSize;
  if (set.sizes !== undefined && !set.sizes.includes(s)) {
    throw new ConfigError(
      where.replace(/\.rules$/, '.accountSize'),
      `${set.id} accounts come in ${set.sizes.join(', ')}; got ${s}`,
    );
  }
  if (!(s > 0)) throw new ConfigError(where.replace(/\.rules$/, '.accountSize'), `must be positive, got ${s}`);
  return { label: `${set.id}@${set.version}`, name: set.name, source: set.source, params: set.build(s) };
}

/** Validates custom parameters, naming the offending key under `where`. */
export function parseCustomParams(raw: unknown, where = 'risk.propFirm.custom'): ResolvedRuleSet {
  const r = customParamsSchema.safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ConfigError([where, ...issue.path.map(String)].join('.'), issue.message);
  }
  const p = r.data;
  const params: PropFirmParams = {
    initialBalance: p.initialBalance,
    dayBoundary: p.dayBoundary,
    maxLoss: {
      amount: p.maxLoss.amount,
      trailing: p.maxLoss.trailing,
      ...(p.maxLoss.lockAt ? { lockAt: p.maxLoss.lockAt } : {}),
    },
    ...(p.dailyLoss ? { dailyLoss: p.dailyLoss } : {}),
    ...(p.profitTarget !== undefined ? { profitTarget: p.profitTarget } : {}),
    ...(p.minTradingDays !== undefined ? { minTradingDays: p.minTradingDays } : {}),
    ...(p.consistency ? { consistency: p.consistency } : {}),
  };
  return { label: 'custom', name: 'custom rule set', params };
}
