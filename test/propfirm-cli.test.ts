import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderEquityCsv, renderTradesCsv } from '../src/backtest/report/csv.js';
import type { ClosedTrade } from '../src/core/events.js';

const dir = mkdtempSync(join(tmpdir(), 'tf-propfirm-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/tradeforge.js', 'propfirm', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TRADEFORGE_HOME: dir },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const Z = (s: string) => Date.parse(s);
const trade = (day: string, pnl: number): ClosedTrade => ({
  strategyId: 's1',
  symbol: 'EUR/USD',
  side: 'long',
  entryTime: Z(`2026-01-${day}T09:00:00Z`),
  entryPrice: 1.1,
  exitTime: Z(`2026-01-${day}T15:00:00Z`),
  exitPrice: 1.2,
  quantity: 1,
  fees: 0,
  pnl,
  pnlPct: 0,
  exitReason: 'signal, "tp"',
});

// The files a backtest writes (trades.csv, equity.csv), rendered by the same code.
const tradesCsv = join(dir, 'trades.csv');
writeFileSync(
  tradesCsv,
  renderTradesCsv([trade('05', 4_000), trade('06', -1_000), trade('07', 3_500), trade('08', 3_600)]),
);

// Each case spawns the CLI (tsx start-up); a loaded 2-core box needs room.
describe('tradeforge propfirm', { timeout: 180_000 }, () => {
  it('check: day-by-day report of a backtest trades.csv, exit 0 when passed', () => {
    const r = run('check', '--rules', 'ftmo-2step', '--trades', tradesCsv);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines.find((l) => l.startsWith('2026-01-06'))).toMatch(
      /104000\.00\s+103000\.00\s+-1000\.00\s+99000\.00\s+90000\.00/,
    );
    expect(r.out).toContain('trading days: 4 of 4 required met');
    expect(r.out).toContain('result: PASSED');
  });

  it('check --equity: an intraday excursion below the daily floor fails the account (exit 4), JSON output', () => {
    const equityCsv = join(dir, 'equity.csv');
    const times = [Z('2026-01-05T09:00:00Z'), Z('2026-01-05T12:00:00Z'), Z('2026-01-05T15:00:00Z')];
    writeFileSync(
      equityCsv,
      renderEquityCsv(
        { time: Float64Array.from(times), value: Float64Array.from([100_000, 94_500, 104_000]) } as never,
        100_000,
      ),
    );
    const r = run('check', '--rules', 'ftmo-2step', '--trades', tradesCsv, '--equity', equityCsv, '--json');
    expect(r.code).toBe(4);
    const j = JSON.parse(r.out);
    expect(j.result).toBe('failed');
    expect(j.breaches[0]).toMatchObject({ limit: 'dailyLoss', equity: 94_500, floor: 95_000, day: '2026-01-05' });
  });

  it('rules: lists every set with its version and parameters', () => {
    const r = run('rules', '--json');
    expect(r.code).toBe(0);
    const sets = JSON.parse(r.out) as { label: string; params: { maxLoss: { amount: number } } }[];
    expect(sets.map((s) => s.label)).toEqual(
      expect.arrayContaining(['ftmo-2step@2025-06', 'ftmo-1step@2025-06', 'topstep@2025-01', 'apex@2024-09']),
    );
    expect(sets.find((s) => s.label.startsWith('topstep'))?.params.maxLoss.amount).toBe(2_000);
    const text = run('rules', '--size', '100000');
    expect(text.out).toContain('day starts 17:00 America/Chicago');
    expect(text.out).toContain('max loss 3000, trailing eod-balance, locks at 100000');
  });

  it('bad input: names the file, row and column, or the flag; no stack trace', () => {
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'exit_time,pnl\n2026-01-05T15:00:00Z,12\n2026-01-06T15:00:00Z,abc\n');
    let r = run('check', '--rules', 'ftmo-2step', '--trades', bad);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/bad\.csv, row 3, column pnl: not a number: "abc"/);
    expect(r.err).not.toMatch(/\bat \w+ \(/);
    r = run('check', '--rules', 'ftmo-9step', '--trades', bad);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--rules: unknown prop-firm rule set "ftmo-9step"/);
  });
});
