import { describe, expect, it } from 'vitest';
import type { OrderIntent } from '../core/order.js';
import { createRiskEngine } from './index.js';
import {
  loosenings,
  patchPreferences,
  preferencesOf,
  riskPreferencesPatchSchema,
  withPreferences,
} from './preferences.js';
import { SimpleRiskView } from './simple-view.js';

const buy = (quantity: number, strategyId = 's1'): OrderIntent => ({
  strategyId,
  symbol: 'BTC/USD',
  side: 'buy',
  type: 'market',
  quantity,
});

function view() {
  const v = new SimpleRiskView('backtest');
  v.time = Date.UTC(2024, 0, 2, 12);
  v.equityValue = 100_000;
  v.cashValue = 100_000;
  v.prices.set('BTC/USD', 100);
  return v;
}

describe('risk preferences', () => {
  it("validates each key with the config schema's own rule", () => {
    const bad = riskPreferencesPatchSchema.safeParse({ maxOrderNotional: -5, 'breakers.dailyLoss': 2, nope: 1 });
    expect(bad.success).toBe(false);
    const paths = bad.error?.issues.map((i) => i.path.join('.') || i.code) ?? [];
    expect(paths).toContain('maxOrderNotional');
    expect(paths).toContain('breakers.dailyLoss');
    expect(paths).toContain('unrecognized_keys');
    expect(riskPreferencesPatchSchema.parse({ maxOrderNotional: 500, capitalCap: null })).toEqual({
      maxOrderNotional: 500,
      capitalCap: null,
    });
  });

  it('tells a tightening from a loosening, and a removed limit is a loosening', () => {
    const file = { maxOrderNotional: 1000, breakers: { dailyLoss: 0.05 } };
    const tighter = withPreferences(file, { maxOrderNotional: 800, maxPositionNotional: 5000 });
    expect(loosenings(file, tighter)).toEqual([]);
    const looser = withPreferences(file, { 'breakers.dailyLoss': 0.1 });
    expect(loosenings(file, looser)).toEqual([{ key: 'breakers.dailyLoss', from: 0.05, to: 0.1 }]);
    expect(loosenings(tighter, file)).toEqual([
      { key: 'maxOrderNotional', from: 800, to: 1000 },
      { key: 'maxPositionNotional', from: 5000, to: undefined },
    ]);
    // null drops the saved key: the file's value comes back.
    const saved = patchPreferences({ maxOrderNotional: 800, capitalCap: 50 }, { maxOrderNotional: null });
    expect(saved).toEqual({ capitalCap: 50 });
    expect(preferencesOf(withPreferences(file, saved))).toEqual({
      maxOrderNotional: 1000,
      capitalCap: 50,
      'breakers.dailyLoss': 0.05,
    });
  });

  it('updateLimits: an order the old limit allowed is refused with the new limit, overrides still apply', () => {
    const engine = createRiskEngine(
      { maxOrderNotional: 5000 },
      { useDefaults: false, mode: 'backtest', strategyOverrides: { s2: { maxPositionNotional: 100_000 } } },
    );
    const v = view();
    expect(engine.check(buy(40), v)).toBeNull();
    expect(engine.check(buy(40, 's2'), v)).toBeNull();
    engine.updateLimits(withPreferences(engine.config, { maxOrderNotional: 3000 }));
    expect(engine.config.maxOrderNotional).toBe(3000);
    for (const s of ['s1', 's2']) {
      const err = engine.check(buy(40, s), v);
      expect(err?.reason).toBe('MAX_NOTIONAL');
      expect(err?.limit).toBe(3000);
    }
  });

  it('updateLimits moves breaker thresholds without losing the baselines', () => {
    const engine = createRiskEngine({ breakers: { dailyLoss: 0.5 } }, { useDefaults: false, mode: 'backtest' });
    const v = view();
    engine.onEquity(v);
    v.equityValue = 90_000;
    engine.onEquity(v);
    expect(engine.isHalted(v.time)).toBe(false);
    engine.updateLimits(withPreferences(engine.config, { 'breakers.dailyLoss': 0.05 }));
    engine.onEquity(v);
    expect(engine.isHalted(v.time)).toBe(true);
    expect(engine.check(buy(1), v)?.reason).toBe('BREAKER_DAILY_LOSS');
  });
});
