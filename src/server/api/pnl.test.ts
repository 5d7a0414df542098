import { describe, expect, it } from 'vitest';
import type { ClosedTrade } from '../../core/events.js';
import { isTimeZone, periodStartDate, pnlByPeriod } from './pnl.js';

const trade = (exitTime: number, pnl: number): ClosedTrade => ({
  strategyId: 's',
  symbol: 'BTC/USDT',
  side: 'long',
  entryTime: exitTime - 60_000,
  entryPrice: 100,
  exitTime,
  exitPrice: 101,
  quantity: 1,
  fees: 0.1,
  pnl,
  pnlPct: pnl / 100,
  exitReason: 'signal',
});

describe('P&L periods', () => {
  it('starts weeks on Monday (ISO) and months on the 1st, in UTC by default', () => {
    // 2026-01-04 is a Sunday: its week began on Monday 2025-12-29.
    expect(periodStartDate(Date.UTC(2026, 0, 4, 23, 59), 'week')).toBe('2025-12-29');
    expect(periodStartDate(Date.UTC(2026, 0, 5, 0, 1), 'week')).toBe('2026-01-05');
    expect(periodStartDate(Date.UTC(2026, 1, 28, 12), 'month')).toBe('2026-02-01');
    expect(periodStartDate(Date.UTC(2026, 1, 28, 12), 'day')).toBe('2026-02-28');
  });

  it("puts day boundaries at the time zone's midnight", () => {
    // 23:30 UTC on Sunday 4 January is already Monday 5 January in Berlin (UTC+1) but still Sunday in New York.
    const t = Date.UTC(2026, 0, 4, 23, 30);
    expect(periodStartDate(t, 'day', 'Europe/Berlin')).toBe('2026-01-05');
    expect(periodStartDate(t, 'week', 'Europe/Berlin')).toBe('2026-01-05');
    expect(periodStartDate(t, 'week', 'America/New_York')).toBe('2025-12-29');
    // 31 January 23:30 UTC is 1 February in Tokyo.
    expect(periodStartDate(Date.UTC(2026, 0, 31, 23, 30), 'month', 'Asia/Tokyo')).toBe('2026-02-01');
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });

  it('sums trades per period, oldest first', () => {
    const trades = [
      trade(Date.UTC(2026, 0, 6, 10), 5),
      trade(Date.UTC(2026, 0, 4, 23, 30), -2),
      trade(Date.UTC(2026, 0, 7), 1),
    ];
    expect(pnlByPeriod(trades, 'week')).toEqual([
      { start: '2025-12-29', pnl: -2, trades: 1, fees: 0.1 },
      { start: '2026-01-05', pnl: 6, trades: 2, fees: 0.2 },
    ]);
    expect(pnlByPeriod(trades, 'week', 'Europe/Berlin').map((r) => [r.start, r.trades])).toEqual([['2026-01-05', 3]]);
  });

  it('sums exact trades in decimals, and a period with one trade of doubles only as doubles', () => {
    const day = Date.UTC(2026, 0, 6, 10);
    const exactTrade = (pnl: string, fees: string): ClosedTrade => ({
      ...trade(day, Number(pnl)),
      fees: Number(fees),
      exact: { entryPrice: '1', exitPrice: '1', quantity: '1', fees, pnl },
    });
    // 0.1 + 0.2 in doubles is 0.30000000000000004; in decimals 0.3.
    const rows = pnlByPeriod([exactTrade('0.1', '0.00000001'), exactTrade('0.2', '0.00000002')], 'day');
    expect(rows).toEqual([
      { start: '2026-01-06', pnl: 0.3, trades: 2, fees: 0.00000003, exact: { pnl: '0.3', fees: '0.00000003' } },
    ]);
    const mixed = pnlByPeriod([exactTrade('0.1', '0'), trade(day, 0.2)], 'day');
    expect(mixed[0]?.exact).toBeUndefined();
    expect(mixed[0]?.pnl).toBe(0.1 + 0.2);
  });
});
