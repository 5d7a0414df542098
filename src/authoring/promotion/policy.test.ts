import { describe, expect, it } from 'vitest';
import { illegalTransition, nextState } from './lifecycle.js';
import { DEFAULT_PROMOTION_POLICY, looseningsOf, policyChangeRefusal, withChanges } from './policy.js';

const P = DEFAULT_PROMOTION_POLICY;

describe('the promotion policy only becomes stricter, and only by an admin', () => {
  it('accepts a stricter change by an admin', () => {
    const p = withChanges(P, { thresholds: { minSharpe: 1, maxDrawdownPct: 20 }, dryRunDays: 21 });
    expect(policyChangeRefusal(P, p, 'admin')).toBeUndefined();
    expect(p.thresholds).toEqual({ minSharpe: 1, maxDrawdownPct: 20, minWinRatePct: 35, minTrades: 30 });
  });

  it('refuses any change by a non-admin, stricter or not', () => {
    expect(policyChangeRefusal(P, withChanges(P, { thresholds: { minSharpe: 0.3 } }), 'viewer')).toBe(
      'only an admin may change the promotion thresholds (role viewer)',
    );
    expect(policyChangeRefusal(P, withChanges(P, { thresholds: { minSharpe: 2 } }), 'viewer')).toMatch(/only an admin/);
  });

  it('refuses a lowering by an admin, naming each loosened value', () => {
    const p = withChanges(P, {
      thresholds: { minSharpe: 0.4, maxDrawdownPct: 30, minTrades: 29 },
      dryRunDays: 13,
      tolerance: { priceBps: 50 },
    });
    expect(looseningsOf(P, p).map((l) => l.field)).toEqual([
      'thresholds.minSharpe',
      'thresholds.maxDrawdownPct',
      'thresholds.minTrades',
      'dryRunDays',
      'tolerance.priceBps',
    ]);
    expect(policyChangeRefusal(P, p, 'admin')).toMatch(
      /^thresholds may only become stricter: thresholds.minSharpe 0.5 -> 0.4, /,
    );
    expect(looseningsOf(P, withChanges(P, { thresholds: { minSharpe: Number.NaN } }))).toHaveLength(1);
  });
});

describe('the lifecycle', () => {
  it('walks draft -> backtested -> gated -> dry_run -> live; retired from anywhere but retired', () => {
    expect(nextState('draft')).toBe('backtested');
    expect(illegalTransition('gated', 'dry_run')).toBeUndefined();
    expect(illegalTransition('dry_run', 'live')).toBeUndefined();
    expect(illegalTransition('gated', 'live')).toBe(
      'a gated version moves to dry_run next, not to live (no state is skipped)',
    );
    expect(illegalTransition('live', 'retired')).toBeUndefined();
    expect(illegalTransition('draft', 'retired')).toBeUndefined();
    expect(illegalTransition('retired', 'live')).toMatch(/retired/);
    expect(illegalTransition('live', 'dry_run')).toBe('a live version can only be retired');
  });
});
