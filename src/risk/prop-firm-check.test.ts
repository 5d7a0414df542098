import { describe, expect, it } from 'vitest';
import { checkPropFirmHistory, renderPropFirmCheck } from './prop-firm-check.js';
import { resolveRuleSet } from './prop-firm-rules.js';

const Z = (s: string) => Date.parse(s);

describe('checkPropFirmHistory: a trade history day by day', () => {
  it('FTMO 2-Step: passes after 4 trading days and the 10% target', () => {
    const set = resolveRuleSet('ftmo-2step', 100_000);
    const trades = ['05', '06', '07', '08'].map((d, i) => ({
      entryTime: Z(`2026-01-${d}T09:00:00Z`),
      exitTime: Z(`2026-01-${d}T15:00:00Z`),
      pnl: [4_000, -1_000, 3_500, 3_600][i],
    }));
    const c = checkPropFirmHistory(set, trades);
    expect(c.days.map((d) => [d.day, d.startBalance, d.endBalance, d.dailyFloor])).toEqual([
      ['2026-01-05', 100_000, 104_000, 95_000],
      ['2026-01-06', 104_000, 103_000, 99_000],
      ['2026-01-07', 103_000, 106_500, 98_000],
      ['2026-01-08', 106_500, 110_100, 101_500],
    ]);
    expect(c.result).toBe('passed');
    expect(renderPropFirmCheck(c, false)).toContain('result: PASSED');
  });

  it('fails on an equity mark below the daily floor even when the trade closes flat', () => {
    const set = resolveRuleSet('ftmo-2step', 100_000);
    const c = checkPropFirmHistory(
      set,
      [{ entryTime: Z('2026-01-05T09:00:00Z'), exitTime: Z('2026-01-05T15:00:00Z'), pnl: 0 }],
      [
        { time: Z('2026-01-05T10:00:00Z'), equity: 97_000 },
        { time: Z('2026-01-05T11:00:00Z'), equity: 94_999 },
        { time: Z('2026-01-05T15:00:00Z'), equity: 100_000 },
      ],
    );
    expect(c.result).toBe('failed');
    expect(c.breaches).toEqual([expect.objectContaining({ limit: 'dailyLoss', equity: 94_999, floor: 95_000 })]);
    expect(c.days[0].lowestEquity).toBe(94_999);
    expect(renderPropFirmCheck(c, true)).toMatch(/2026-01-05 .* DAILY LOSS BREACHED \(account\)/);
  });

  it('Topstep: the best-day rule keeps a reached target in progress', () => {
    const set = resolveRuleSet('topstep', 50_000);
    const c = checkPropFirmHistory(set, [
      { exitTime: Z('2026-01-05T18:00:00Z'), pnl: 2_000 },
      { exitTime: Z('2026-01-06T18:00:00Z'), pnl: 1_200 },
    ]);
    expect(c.final.profitTarget?.reached).toBe(true);
    expect(c.final.consistency).toMatchObject({ bestDay: 2_000, basis: 3_200, met: false });
    expect(c.result).toBe('in-progress');
    expect(c.days.map((d) => d.maxLossFloor)).toEqual([48_000, 50_000]);
  });
});
