import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { BarColumns } from '../core/bar.js';
import { computeIndicators, rsi } from './index.js';
import { maxRelError } from './testdata/sample.js';

// Published table: StockCharts ChartSchool, "Relative Strength Index (RSI)" worked example (cs-rsi.xls,
// QQQQ closes 14-Dec-2009 .. 1-Feb-2010, four decimals as in the spreadsheet), 14-day Wilder RSI printed to two decimals. The same closes and
// method are in Wilder, "New Concepts in Technical Trading Systems" (1978), ch. 6.
const STOCKCHARTS_CLOSES = [
  44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245, 45.8433, 46.0826, 45.8931, 46.0328, 45.614,
  46.282, 46.282, 46.0028, 46.0328, 46.4116, 46.2222, 45.6439, 46.2122, 46.2521, 45.7137, 46.4515, 45.7835, 45.3548,
  44.0288, 44.1783, 44.2181, 44.5672, 43.4205, 42.6628, 43.1314,
];
const STOCKCHARTS_RSI14 = [
  70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93, 63.26, 56.06, 62.38, 54.71, 50.42, 39.99, 41.46, 41.87, 45.46, 37.3,
  33.08, 37.77,
];

describe('published reference tables', () => {
  it('RSI(14) matches the StockCharts / Wilder worked example to its printed precision', () => {
    const out = rsi(new Float64Array(STOCKCHARTS_CLOSES), 14);
    for (let i = 0; i < 14; i++) expect(out[i]).toBeNaN();
    STOCKCHARTS_RSI14.forEach((published, j) => {
      expect(Math.abs(out[14 + j] - published)).toBeLessThanOrEqual(0.005 + 1e-9);
    });
  });
});

// Exact references: testdata/exact_reference.py computes every indicator from its textbook definition in exact
// rational arithmetic (Python fractions) on testdata/exact-input.json and stores 25 significant digits.
const input = JSON.parse(readFileSync(new URL('./testdata/exact-input.json', import.meta.url), 'utf8')) as {
  time: number[];
  close: string[];
  high: string[];
  low: string[];
  volume: string[];
};
const expected = JSON.parse(
  readFileSync(new URL('./testdata/exact-reference.json', import.meta.url), 'utf8'),
) as Record<string, (string | null)[]>;

const toF64 = (xs: readonly (string | number)[]) => new Float64Array(xs.map(Number));
const bars: BarColumns = {
  length: input.close.length,
  time: toF64(input.time),
  open: toF64(input.close),
  high: toF64(input.high),
  low: toF64(input.low),
  close: toF64(input.close),
  volume: toF64(input.volume),
};

const SPECS = [
  'sma:5',
  'ema:5',
  'wma:5',
  'rsi:14',
  'rsi:5',
  'roc:3',
  'stddev:5',
  'macd:3,6,4',
  'macd:12,26,9',
  'bbands:5,2',
  'atr:5',
  'atr:14',
  'adx:5',
  'cci:5',
  'stoch:5,3,3',
  'donchian:5',
  'obv',
  'vwap',
  'vwap:4h',
];

describe('exact rational references (1e-9 relative error after warm-up)', () => {
  const columns = computeIndicators(SPECS, bars);
  const byName = new Map(columns.map((c) => [c.name, c.values]));

  it('covers every reference series', () => {
    for (const name of Object.keys(expected)) expect(byName.has(name), name).toBe(true);
  });

  for (const name of Object.keys(expected)) {
    it(`${name} matches`, () => {
      const want = expected[name].map((v) => (v === null ? null : Number(v)));
      const got = byName.get(name);
      expect(got).toBeDefined();
      expect(maxRelError(got as Float64Array, want)).toBeLessThanOrEqual(1e-9);
    });
  }
});
