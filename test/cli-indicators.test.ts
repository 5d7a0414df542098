import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { rsi, sma } from '../src/indicators/index.js';

const home = mkdtempSync(join(tmpdir(), 'tf-ind-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/tradeforge.js', 'indicators', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TRADEFORGE_HOME: home },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const closes = [10, 11, 12, 11, 13, 14, 13, 15, 16, 15.5, 17, 18, 17.25, 19, 20, 19.5];
const csv = join(home, 'bars.csv');
writeFileSync(
  csv,
  `time,open,high,low,close,volume\n${closes
    .map((c, i) => `${new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString()},${c},${c + 1},${c - 1},${c},${100 + i}`)
    .join('\n')}\n`,
);

describe('tradeforge indicators', () => {
  it('prints time then one column per output, empty cells during warm-up, full precision', () => {
    const r = run('--data', csv, '--indicator', 'sma:3', '--indicator', 'rsi:2', '--indicator', 'macd:2,3,2');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe('time,sma_3,rsi_2,macd_2_3_2,macd_signal_2_3_2,macd_hist_2_3_2');
    expect(lines).toHaveLength(closes.length + 1);
    const rows = lines.slice(1).map((l) => l.split(','));
    expect(rows[0][0]).toBe('2024-01-01T00:00:00.000Z');
    expect(rows[15][0]).toBe('2024-01-01T00:15:00.000Z');
    // Warm-up cells are empty: sma_3 has 2, rsi_2 has 2, macd line 2, signal 3.
    expect(rows.map((r) => r[1] === '')).toEqual(closes.map((_, i) => i < 2));
    expect(rows.map((r) => r[2] === '')).toEqual(closes.map((_, i) => i < 2));
    expect(rows.map((r) => r[4] === '')).toEqual(closes.map((_, i) => i < 3));
    // Every printed number round-trips to exactly the library's value (no rounding).
    const s = sma(new Float64Array(closes), 3);
    const r2 = rsi(new Float64Array(closes), 2);
    for (let i = 2; i < closes.length; i++) {
      expect(Number(rows[i][1])).toBe(s[i]);
      expect(Number(rows[i][2])).toBe(r2[i]);
      expect(rows[i][2]).toBe(String(r2[i]));
    }
  });

  it('prints JSON rows with null for undefined values', () => {
    const r = run('--data', csv, '--indicator', 'bbands:4,2', '--indicator', 'obv', '--format', 'json');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as Record<string, string | number | null>[];
    expect(rows).toHaveLength(closes.length);
    expect(Object.keys(rows[0])).toEqual(['time', 'bb_lower_4_2', 'bb_middle_4_2', 'bb_upper_4_2', 'obv']);
    expect(rows[2].bb_middle_4_2).toBeNull();
    expect(rows[3].bb_middle_4_2).toBe((10 + 11 + 12 + 11) / 4);
    expect(rows[0].obv).toBe(100);
    expect(rows[1].obv).toBe(201);
  });

  it('computes every indicator family on the bundled sample data', () => {
    const specs = ['ema:12', 'wma:10', 'roc:10', 'stddev:20', 'atr:14', 'stoch:14,3,3', 'adx:14', 'cci:20'];
    const more = ['donchian:20', 'vwap:1d'];
    const r = run('--data', 'data/sample/sp500_2000.csv', ...[...specs, ...more].flatMap((s) => ['--indicator', s]));
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'time,ema_12,wma_10,roc_10,stddev_20,atr_14,stoch_k_14_3_3,stoch_d_14_3_3,adx_14,plus_di_14,minus_di_14,cci_20,' +
        'donchian_upper_20,donchian_lower_20,donchian_middle_20,vwap_1d',
    );
    expect(lines).toHaveLength(5106);
    // After the longest warm-up (ADX: 27 bars) no cell is empty.
    expect(lines[28].split(',').every((c) => c !== '')).toBe(true);
    expect(lines[27].split(',')[8]).toBe('');
  });

  it.each([
    [['--data', csv, '--indicator', 'foo:3'], /^error: indicator "foo:3": unknown indicator "foo"/],
    [['--data', csv, '--indicator', 'sma:0'], /^error: indicator "sma:0": period must be an integer >= 1/],
    [['--data', csv, '--indicator', 'macd:26,12'], /^error: indicator "macd:26,12": fast period/],
    [['--data', join(home, 'missing.csv'), '--indicator', 'sma:3'], /^error: .*missing\.csv: file not found/],
    [['--data', csv], /^error: give at least one --indicator/],
  ])('bad input %j gives one line and exit 2', (args, message) => {
    const r = run(...args);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
  });
});
