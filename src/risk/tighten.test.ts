import { describe, expect, it } from 'vitest';
import { looseningsOf } from './tighten.js';

describe('looseningsOf: a deployment may only tighten the account risk', () => {
  it('accepts stricter limits and limits the account leaves unset', () => {
    expect(
      looseningsOf(
        { maxOrderNotional: 100, maxConcentration: 0.2, marginFloor: 0.5, orderRate: { perMinute: 5, perSecond: 1 } },
        { maxOrderNotional: 500 },
      ),
    ).toEqual([]);
    expect(looseningsOf({ maxPositionNotional: 1_000_000 }, {})).toEqual([]);
  });

  it('names each key that loosens, against the account config merged over the live defaults', () => {
    expect(
      looseningsOf(
        { maxOrderNotional: 900, maxConcentration: 0.9, marginFloor: 0.1, duplicateSignals: false },
        { maxOrderNotional: 500 },
      ).map((l) => l.key),
    ).toEqual(['maxOrderNotional', 'maxConcentration', 'marginFloor', 'duplicateSignals']);
    expect(looseningsOf({ orderRate: { perMinute: 11, perSecond: 5 } }, {})[0]).toEqual({
      key: 'orderRate.perMinute',
      message: "11 is looser than the account's 10",
    });
  });

  it('refuses keys with no known direction (sizing, breakers, dry run)', () => {
    const keys = looseningsOf(
      { sizing: { method: 'fixed', amount: 1 }, breakers: { dailyLoss: 0.01 }, dryRun: true },
      {},
    ).map((l) => l.key);
    expect(keys).toEqual(['sizing.method', 'sizing.amount', 'breakers.dailyLoss', 'dryRun']);
  });
});
