/**
 * The promotion policy (DEPLOY-2, DEPLOY-3): the gate's backtest thresholds, the dry run's length and how far the
 * dry run may diverge from its replay. Every value may only become stricter, and only by an admin.
 */
import type { DivergenceTolerance } from '../../backtest/divergence.js';

/** The backtest thresholds of the gate. */
export interface GateThresholds {
  /** Sharpe ratio at least this. */
  readonly minSharpe: number;
  /** Maximum drawdown at most this, in percent. */
  readonly maxDrawdownPct: number;
  /** Share of winning trades at least this, in percent. */
  readonly minWinRatePct: number;
  /** Closed trades at least this many (in sample). */
  readonly minTrades: number;
}

/** Everything a version is judged by on its way to live. */
export interface PromotionPolicy {
  readonly thresholds: GateThresholds;
  /** Days of dry run (paper trading on live data) at least. */
  readonly dryRunDays: number;
  /** How far the dry run's fills may differ from a replay of the same period. */
  readonly tolerance: DivergenceTolerance;
}

/** The defaults of DEPLOY-2/3: Sharpe ≥ 0.5, drawdown ≤ 25 %, win rate ≥ 35 %, ≥ 30 trades, ≥ 14 days of dry run. */
export const DEFAULT_PROMOTION_POLICY: PromotionPolicy = Object.freeze({
  thresholds: Object.freeze({ minSharpe: 0.5, maxDrawdownPct: 25, minWinRatePct: 35, minTrades: 30 }),
  dryRunDays: 14,
  // A paper venue fills at the market's price within its bar: one minute, 10 bp, 0.1 % of the quantity, 1 unit of P&L.
  tolerance: Object.freeze({ timeMs: 60_000, priceBps: 10, quantityRatio: 0.001, pnl: 1 }),
});

/** Which direction is stricter for each value: up (a minimum) or down (a maximum). */
const STRICTER: readonly { path: string; get: (p: PromotionPolicy) => number; up: boolean }[] = [
  { path: 'thresholds.minSharpe', get: (p) => p.thresholds.minSharpe, up: true },
  { path: 'thresholds.maxDrawdownPct', get: (p) => p.thresholds.maxDrawdownPct, up: false },
  { path: 'thresholds.minWinRatePct', get: (p) => p.thresholds.minWinRatePct, up: true },
  { path: 'thresholds.minTrades', get: (p) => p.thresholds.minTrades, up: true },
  { path: 'dryRunDays', get: (p) => p.dryRunDays, up: true },
  { path: 'tolerance.timeMs', get: (p) => p.tolerance.timeMs, up: false },
  { path: 'tolerance.priceBps', get: (p) => p.tolerance.priceBps, up: false },
  { path: 'tolerance.quantityRatio', get: (p) => p.tolerance.quantityRatio, up: false },
  { path: 'tolerance.pnl', get: (p) => p.tolerance.pnl, up: false },
];

/** One value of a policy that a change would loosen. */
export interface Loosening {
  readonly field: string;
  readonly from: number;
  readonly to: number;
}

/** The values `proposed` loosens against `current` (empty when every value is as strict or stricter). */
export function looseningsOf(current: PromotionPolicy, proposed: PromotionPolicy): Loosening[] {
  const out: Loosening[] = [];
  for (const s of STRICTER) {
    const a = s.get(current);
    const b = s.get(proposed);
    if (!Number.isFinite(b) || (s.up ? b < a : b > a)) out.push({ field: s.path, from: a, to: b });
  }
  return out;
}

/** Why `role` may not change the policy from `current` to `proposed`, or undefined when it may. */
export function policyChangeRefusal(
  current: PromotionPolicy,
  proposed: PromotionPolicy,
  role: string,
): string | undefined {
  if (role !== 'admin') return `only an admin may change the promotion thresholds (role ${role})`;
  const loose = looseningsOf(current, proposed);
  if (loose.length === 0) return undefined;
  return `thresholds may only become stricter: ${loose.map((l) => `${l.field} ${l.from} -> ${l.to}`).join(', ')}`;
}

/** A policy with some values replaced (the rest kept). */
export function withChanges(
  p: PromotionPolicy,
  c: { thresholds?: Partial<GateThresholds>; dryRunDays?: number; tolerance?: Partial<DivergenceTolerance> },
): PromotionPolicy {
  return {
    thresholds: { ...p.thresholds, ...c.thresholds },
    dryRunDays: c.dryRunDays ?? p.dryRunDays,
    tolerance: { ...p.tolerance, ...c.tolerance },
  };
}
