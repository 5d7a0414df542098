import { describe, expect, it } from 'vitest';
import { SAMPLE_DATA_FILE } from '../src/app/home.js';
import { runBacktest } from '../src/backtest/runner.js';
import { formatSummary } from '../src/backtest/summary.js';
import { loadBars } from '../src/data/index.js';

describe('a backtest result reports its ledger divergence (docs/money.md)', () => {
  it('a backtest run on the bundled sample carries no divergence; a run that diverges prints it in its summary', () => {
    const loaded = loadBars(SAMPLE_DATA_FILE);
    const base = {
      data: { symbol: 'SP500', columns: loaded.columns, timeframe: '1d' as const },
      strategy: 'sma-cross',
      params: { fast: 10, slow: 30 },
      stake: { kind: 'percent' as const, value: 95 },
      lot: 1,
      fee: 0.001,
    };
    const r = runBacktest(base);
    expect(r.trades.length).toBeGreaterThan(0);
    expect(r.ledgerDivergence).toBeUndefined();
    expect(formatSummary(r)).not.toContain('ledger divergence');
    // Cash of 1e17: quantities of ~1e14 units at ~1000 have more significant digits than a double holds.
    const big = runBacktest({ ...base, cash: 1e17 });
    expect(big.ledgerDivergence).toBeDefined();
    expect(formatSummary(big)).toMatch(/ledger divergence\s+[\d,.]+: cash .* \(exact -?\d/);
  });
});
