import { z } from 'zod';
import { ValidationError } from '../core/errors.js';

/** Broad asset classes a scenario shocks when it has no figure for the symbol itself. */
export type AssetClass = 'equity' | 'crypto' | 'fx' | 'commodity' | 'other';

/** Relative price moves of one scenario: by symbol (or base asset), then by asset class, then `default`. */
export interface ScenarioShocks {
  bySymbol?: Record<string, number>;
  byClass?: Partial<Record<AssetClass, number>>;
  default?: number;
}

/** A historical shock scenario: its moves, and the window they come from (replayed from history when it covers it). */
export interface StressScenario {
  name: string;
  description: string;
  /** The historical window, ISO dates (closing prices at or before each end). */
  window?: { from: string; to: string };
  shocks: ScenarioShocks;
}

/**
 * Built-in scenarios. Figures are the approximate moves of the period (index closes over the window): users with
 * price history covering the window get the symbol's own move instead (see `shockFor`).
 */
export const BUILTIN_SCENARIOS: readonly StressScenario[] = [
  {
    name: '1987-10',
    description: 'Black Monday, 19 Oct 1987 (S&P 500 −20.5% in a day)',
    window: { from: '1987-10-16', to: '1987-10-19' },
    shocks: { byClass: { equity: -0.205, commodity: -0.05, fx: 0, crypto: -0.205 }, default: -0.205 },
  },
  {
    name: '2008-10',
    description: 'Global financial crisis, October 2008 (S&P 500 −16.9%, crude −32.6%, EUR/USD −9.5%)',
    window: { from: '2008-09-30', to: '2008-10-31' },
    shocks: {
      bySymbol: { 'EUR/USD': -0.095, 'GBP/USD': -0.09, 'USD/JPY': -0.075, XAU: -0.17, 'XAU/USD': -0.17 },
      byClass: { equity: -0.169, commodity: -0.326, fx: -0.05, crypto: -0.3 },
      default: -0.169,
    },
  },
  {
    name: '2020-03',
    description: 'COVID-19 crash, 19 Feb – 23 Mar 2020 (S&P 500 −33.9%, Bitcoin −38%, crude −60%)',
    window: { from: '2020-02-19', to: '2020-03-23' },
    shocks: {
      bySymbol: { BTC: -0.38, ETH: -0.46, 'EUR/USD': -0.01, XAU: -0.03, 'XAU/USD': -0.03 },
      byClass: { equity: -0.339, crypto: -0.4, commodity: -0.6, fx: -0.03 },
      default: -0.339,
    },
  },
  {
    name: '2022-05',
    description: 'Terra/LUNA collapse, May 2022 (Bitcoin −15.6%, Ether −29%, LUNA −99.9%)',
    window: { from: '2022-04-30', to: '2022-05-31' },
    shocks: {
      bySymbol: { BTC: -0.156, ETH: -0.29, LUNA: -0.999, SOL: -0.55 },
      byClass: { crypto: -0.3, equity: 0, fx: 0, commodity: 0 },
      default: 0,
    },
  },
];

const CRYPTO = new Set([
  'BTC',
  'XBT',
  'ETH',
  'SOL',
  'BNB',
  'XRP',
  'ADA',
  'DOGE',
  'DOT',
  'AVAX',
  'LUNA',
  'LTC',
  'LINK',
  'MATIC',
  'TRX',
]);
const STABLE_QUOTES = new Set(['USDT', 'USDC', 'BUSD', 'FDUSD', 'DAI']);
const FIAT = new Set([
  'USD',
  'EUR',
  'GBP',
  'JPY',
  'CHF',
  'AUD',
  'NZD',
  'CAD',
  'SEK',
  'NOK',
  'DKK',
  'PLN',
  'CZK',
  'HUF',
  'SGD',
  'HKD',
  'CNH',
  'MXN',
  'ZAR',
  'TRY',
]);
const METALS_ENERGY = new Set([
  'XAU',
  'XAG',
  'XPT',
  'XPD',
  'WTI',
  'BRENT',
  'OIL',
  'USOIL',
  'UKOIL',
  'NATGAS',
  'CL',
  'GC',
  'SI',
  'NG',
]);

/** Guesses the asset class of a symbol from its base and quote (a position may state it instead). */
export function inferAssetClass(symbol: string): AssetClass {
  const [base, quote = ''] = symbol.toUpperCase().split(/[/:-]/);
  if (CRYPTO.has(base) || STABLE_QUOTES.has(quote)) return 'crypto';
  if (METALS_ENERGY.has(base)) return 'commodity';
  if (FIAT.has(base) && FIAT.has(quote)) return 'fx';
  return 'equity';
}

/** The move a scenario applies to a symbol: its own figure, its base asset's, its class's, else the default. */
export function shockFor(s: ScenarioShocks, symbol: string, assetClass: AssetClass): number {
  const by = s.bySymbol ?? {};
  if (by[symbol] !== undefined) return by[symbol];
  const base = symbol.split(/[/:-]/)[0];
  if (by[base] !== undefined && inferAssetClass(symbol) !== 'fx') return by[base];
  return s.byClass?.[assetClass] ?? s.default ?? 0;
}

/** A position as a stress test sees it. */
export interface StressPosition {
  symbol: string;
  /** Signed value: quantity × price × multiplier (short is negative). */
  value: number;
  assetClass?: AssetClass;
}

/** A scenario's result on the current positions. */
export interface StressResult {
  scenario: string;
  description: string;
  pnl: number;
  bySymbol: { symbol: string; shock: number; pnl: number; source: 'history' | 'table' }[];
}

/** Closing prices of a symbol with their times (epoch ms), ascending, for replaying a window. */
export interface PriceHistory {
  time: ArrayLike<number>;
  close: ArrayLike<number>;
}

// The last close at or before `t`, or NaN when the history starts after it.
function closeAtOrBefore(h: PriceHistory, t: number): number {
  let lo = 0;
  let hi = h.time.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (h.time[mid] <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found < 0 ? Number.NaN : h.close[found];
}

/**
 * Applies a scenario to the positions: P&L = Σ value × shock. When a symbol's history covers the scenario's
 * window (a close at or before each end, and the first close no later than `from`), its own move over the window
 * replaces the table figure.
 */
export function runStress(
  scenario: StressScenario,
  positions: readonly StressPosition[],
  history: Readonly<Record<string, PriceHistory>> = {},
): StressResult {
  const rows: StressResult['bySymbol'] = [];
  let total = 0;
  for (const p of positions) {
    let shock = Number.NaN;
    let source: 'history' | 'table' = 'table';
    const h = history[p.symbol];
    if (scenario.window && h && h.time.length > 0) {
      const from = Date.parse(`${scenario.window.from}T23:59:59Z`);
      const to = Date.parse(`${scenario.window.to}T23:59:59Z`);
      const a = closeAtOrBefore(h, from);
      const b = closeAtOrBefore(h, to);
      if (a > 0 && b > 0 && h.time[h.time.length - 1] >= Date.parse(`${scenario.window.to}T00:00:00Z`)) {
        shock = b / a - 1;
        source = 'history';
      }
    }
    if (Number.isNaN(shock)) shock = shockFor(scenario.shocks, p.symbol, p.assetClass ?? inferAssetClass(p.symbol));
    const pnl = p.value * shock;
    total += pnl;
    rows.push({ symbol: p.symbol, shock, pnl, source });
  }
  return { scenario: scenario.name, description: scenario.description, pnl: total, bySymbol: rows };
}

const classes = z.enum(['equity', 'crypto', 'fx', 'commodity', 'other']);
const scenarioSchema = z.strictObject({
  name: z.string().min(1),
  description: z.string().default(''),
  window: z.strictObject({ from: z.iso.date(), to: z.iso.date() }).optional(),
  shocks: z.strictObject({
    bySymbol: z.record(z.string(), z.number().min(-1)).optional(),
    byClass: z.partialRecord(classes, z.number().min(-1)).optional(),
    default: z.number().min(-1).optional(),
  }),
});

/** Validates user scenarios (a JSON array), naming the entry and key of a mistake. */
export function parseScenarios(raw: unknown, where = 'scenarios'): StressScenario[] {
  const r = z.array(scenarioSchema).safeParse(raw);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new ValidationError(`${[where, ...issue.path.map(String)].join('.')}: ${issue.message}`, where);
  }
  return r.data;
}
