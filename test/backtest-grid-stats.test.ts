import { describe, expect, it } from 'vitest';
import { renderFillsCsv, renderJson } from '../src/backtest/report/index.js';
import { runBacktest } from '../src/backtest/runner.js';
import { formatSummary } from '../src/backtest/summary.js';
import { candles, DAY, T0 } from './backtest-helpers.js';

// Grid 100 / 110 / 120 (lower 100, upper 120, 3 levels, arithmetic), 1 unit per level, fee 0.1 % on every fill.
// Rows are [open, high, low, close]; a limit fills at its price when the bar reaches it from the other side.
const ROWS = [
  [115, 115, 115, 115], // 0: start at 115: buy limits rest at 100 and 110
  [114, 114, 108, 112], // 1: buy 110 fills -> sell 120 placed
  [113, 121, 112, 119], // 2: sell 120 fills: cycle 1 (110 -> 120) -> buy 110 placed again
  [111, 111, 105, 106], // 3: buy 110 fills -> sell 120 placed
  [104, 105, 99, 101], // 4: buy 100 fills -> sell 110 placed
  [102, 112, 101, 111], // 5: sell 110 fills: cycle 2 (100 -> 110) -> buy 100 placed
  [112, 122, 111, 121], // 6: sell 120 fills: cycle 3 (110 -> 120) -> buy 110 placed
  [121, 121, 120, 120], // 7: nothing fills; the run ends flat
];
const FEE = 0.001;

// The hand calculation: profit of a cycle = (sell - buy) x qty - buy fee - sell fee.
const cycleProfit = (buy: number, sell: number) => (sell - buy) * 1 - buy * FEE - sell * FEE;
const EXPECTED_PROFITS = [cycleProfit(110, 120), cycleProfit(100, 110), cycleProfit(110, 120)]; // 9.77, 9.79, 9.77
// Cycle times: bar 1 -> 2 (1 day), bar 4 -> 5 (1 day), bar 3 -> 6 (3 days): 5 days / 3 cycles = 40 h.
const EXPECTED_AVG_HOURS = (5 * 24) / 3;

function run() {
  return runBacktest({
    data: { symbol: 'GRID', columns: candles(ROWS), timeframe: '1d' },
    strategy: 'grid',
    params: { lower: 100, upper: 120, levels: 3, quantity: 1 },
    fee: FEE,
    lot: 1,
  });
}

describe('grid backtest: fills and cycle statistics in the result', () => {
  const r = run();
  const stats = r.strategyStats!;

  it('counts the cycles and the profit of each as the hand calculation', () => {
    expect(EXPECTED_PROFITS[0]).toBeCloseTo(9.77, 10);
    expect(stats.summary?.['cycles completed']).toBe(3);
    const rows = stats.tables!.cycles.rows;
    expect(rows.map((row) => [row[2], row[3]])).toEqual([
      [110, 120],
      [100, 110],
      [110, 120],
    ]);
    rows.forEach((row, i) => {
      expect(row[5] as number).toBeCloseTo(EXPECTED_PROFITS[i], 10);
    });
    expect(stats.summary?.['cycle profit (net of fees)'] as number).toBeCloseTo(
      EXPECTED_PROFITS.reduce((a, b) => a + b, 0),
      10,
    );
    expect(stats.summary?.['average cycle time (h)'] as number).toBeCloseTo(EXPECTED_AVG_HOURS, 10);
  });

  it('lists fills per level, inventory, capital against the allocation, and no pause', () => {
    // Level 0 (100): 1 buy. Level 1 (110): 2 buys, 1 sell. Level 2 (120): 2 sells.
    expect(stats.tables!.levels.rows).toEqual([
      [0, 100, 1, 0],
      [1, 110, 2, 1],
      [2, 120, 0, 2],
    ]);
    expect(stats.summary?.['inventory at end']).toBe(0);
    // Allocation: one unit at each buy level = 100 + 110; never more than that in use.
    expect(stats.summary?.allocation).toBe(210);
    expect(stats.summary?.['max capital in use']).toBe(210);
    expect(stats.summary?.['times paused']).toBe(0);
    const inv = stats.series!.inventory;
    expect(inv.time).toEqual(ROWS.map((_, i) => T0 + i * DAY));
    expect(inv.value.at(-1)).toBe(0);
    expect(Math.max(...inv.value)).toBe(2);
    expect(stats.priceLines).toEqual([
      { price: 100, label: 'grid 0' },
      { price: 110, label: 'grid 1' },
      { price: 120, label: 'grid 2' },
    ]);
    expect(stats.markers?.map((m) => m.price)).toEqual([120, 110, 120]);
  });

  it('lists every fill with time, side, price, quantity, fee, order type and tag', () => {
    expect(r.fillRecords).toHaveLength(6);
    expect(r.fillRecords.map((f) => [f.side, f.price, f.tag, f.orderType])).toEqual([
      ['buy', 110, 'grid-1', 'limit'],
      ['sell', 120, 'grid-2', 'limit'],
      ['buy', 110, 'grid-1', 'limit'],
      ['buy', 100, 'grid-0', 'limit'],
      ['sell', 110, 'grid-1', 'limit'],
      ['sell', 120, 'grid-2', 'limit'],
    ]);
    expect(r.fillRecords[0].time).toBe(T0 + DAY);
    expect(r.fillRecords[0].fee).toBeCloseTo(0.11, 12);
    expect(r.fillRecords.every((f) => f.quantity === 1)).toBe(true);
  });

  it('carries fills and cycle statistics into the JSON, CSV and the console summary', () => {
    const doc = JSON.parse(renderJson(r));
    expect(doc.fills).toHaveLength(6);
    expect(doc.fills[1]).toMatchObject({ side: 'sell', price: 120, orderType: 'limit', tag: 'grid-2' });
    expect(doc.strategyStats.summary['cycles completed']).toBe(3);
    expect(doc.strategyStats.tables.cycles.rows).toHaveLength(3);
    expect(renderFillsCsv(r.fillRecords).trimEnd().split('\n')).toHaveLength(7);
    const summary = formatSummary(r);
    expect(summary).toMatch(/cycles completed\s+3\n/);
    expect(summary).toMatch(/fills\s+6\n/);
    expect(summary).toMatch(/net P&L\s+29\.33 \(after fees; gross before fees 30\.00\)/);
  });

  it('records a stop-loss as a pause with its reason', () => {
    const rows = [...ROWS.slice(0, 2), [112, 112, 90, 91]];
    const s = runBacktest({
      data: { symbol: 'GRID', columns: candles(rows), timeframe: '1d' },
      strategy: 'grid',
      params: { lower: 100, upper: 120, levels: 3, quantity: 1, stopLoss: 95 },
      fee: FEE,
      lot: 1,
    }).strategyStats!;
    expect(s.summary?.['times paused']).toBe(1);
    expect(s.summary?.['stopped by stop-loss']).toBe(true);
    expect(s.tables!.pauses.rows).toEqual([[new Date(T0 + 2 * DAY).toISOString(), 'stop-loss', null]]);
  });
});
