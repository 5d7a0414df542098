import { describe, expect, it } from 'vitest';
import { type Bar, type BarColumns, barsToColumns, DataError } from '../core/index.js';
import { applyPolicy } from './policy.js';
import { inferTimeframe, validateBars } from './validate.js';

const DAY = 86_400_000;
const MIN = 60_000;
const T0 = Date.UTC(2024, 0, 1);

/** n clean minute bars with small alternating moves. */
function clean(n: number, step = MIN): Bar[] {
  const bars: Bar[] = [];
  let p = 100;
  for (let i = 0; i < n; i++) {
    const c = p * (1 + (i % 2 === 0 ? 0.001 : -0.0008) * (1 + (i % 5) / 5));
    bars.push({
      time: T0 + i * step,
      open: p,
      high: Math.max(p, c) + 0.05,
      low: Math.min(p, c) - 0.05,
      close: c,
      volume: 10,
    });
    p = c;
  }
  return bars;
}

function kinds(c: BarColumns, opts = {}): [string, number][] {
  return validateBars(c, { timeframe: '1m', ...opts }).issues.map((i) => [i.kind, i.row]);
}

describe('validateBars', () => {
  it('finds nothing in clean data', () => {
    const r = validateBars(barsToColumns(clean(100)), { timeframe: '1m' });
    expect(r.clean).toBe(true);
    expect(r.issues).toEqual([]);
  });

  it('reports gaps with the number of missing bars', () => {
    const bars = clean(50);
    for (let i = 30; i < 50; i++) bars[i].time += 3 * MIN;
    const r = validateBars(barsToColumns(bars), { timeframe: '1m' });
    expect(r.issues).toHaveLength(1);
    expect(r.issues[0]).toMatchObject({ kind: 'gap', row: 32, index: 30, severity: 'warning', column: 'time' });
    expect(r.issues[0].detail).toMatch(/^3 missing 1m bars/);
  });

  it('tolerates weekends in daily data but flags longer closures; tolerance is configurable', () => {
    // Mon..Fri, then next Mon..Fri, then a 7-day jump.
    const times = [0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 18].map((d) => Date.UTC(2024, 0, 1) + d * DAY);
    const bars = clean(times.length).map((b, i) => ({ ...b, time: times[i] }));
    const r = validateBars(barsToColumns(bars), { timeframe: '1d' });
    expect(r.issues.map((i) => [i.kind, i.row])).toEqual([['gap', 12]]);
    const strict = validateBars(barsToColumns(bars), { timeframe: '1d', maxGapMs: DAY });
    expect(strict.counts.gap).toBe(2);
  });

  it('reports duplicates and out-of-order rows', () => {
    const bars = clean(10);
    bars.splice(4, 0, { ...bars[3] });
    bars.splice(8, 0, { ...bars[2] });
    expect(kinds(barsToColumns(bars))).toEqual([
      ['duplicate', 6],
      ['out-of-order', 10],
    ]);
  });

  it('reports high < low, open/close outside the range, non-positive prices and negative volume', () => {
    const bars = clean(10);
    bars[1].high = bars[1].low - 1;
    bars[3].open = bars[3].high + 1;
    bars[5].close = bars[5].low - 0.01;
    bars[7].low = 0;
    bars[8].volume = -1;
    const r = validateBars(barsToColumns(bars), { timeframe: '1m' });
    expect(r.issues.map((i) => [i.kind, i.row, i.column])).toEqual([
      ['high-below-low', 3, 'high'],
      ['outside-range', 5, 'open'],
      ['outside-range', 7, 'close'],
      ['non-positive', 9, 'low'],
      ['non-positive', 10, 'volume'],
    ]);
    expect(r.errors).toBe(5);
  });

  it('flags a one-bar spike once (not its reversal), with a configurable threshold', () => {
    const bars = clean(200);
    const s = bars[100];
    s.close *= 1.5;
    s.high = s.close;
    bars[101].open = s.close;
    bars[101].high = s.close;
    const r = validateBars(barsToColumns(bars), { timeframe: '1m' });
    expect(r.issues.map((i) => [i.kind, i.row])).toEqual([['outlier', 102]]);
    expect(validateBars(barsToColumns(bars), { timeframe: '1m', outlierZ: 0 }).counts.outlier).toBe(0);
    expect(validateBars(barsToColumns(bars), { timeframe: '1m', outlierZ: 1e6 }).counts.outlier).toBe(0);
  });

  it('uses given row numbers', () => {
    const bars = clean(5);
    bars[2].high = 0;
    const r = validateBars(barsToColumns(bars), { rowNumbers: [10, 11, 15, 16, 17] });
    expect(r.issues[0].row).toBe(15);
  });

  it('infers the timeframe from the median spacing', () => {
    expect(inferTimeframe(barsToColumns(clean(20)).time)).toBe('1m');
    expect(inferTimeframe(barsToColumns(clean(20, 4 * 3600_000)).time)).toBe('4h');
    expect(inferTimeframe(barsToColumns(clean(20, 7 * MIN)).time)).toBeUndefined();
  });
});

describe('applyPolicy', () => {
  function withProblems(): BarColumns {
    const bars = clean(10);
    bars[3].high = bars[3].low - 1; // row 5: error
    bars.splice(5, 0, { ...bars[4] }); // row 7: duplicate
    for (let i = 9; i < 11; i++) bars[i].time += 2 * MIN; // row 11: gap of 2
    return barsToColumns(bars);
  }

  it('reject throws the first error with its row; warnings alone pass', () => {
    const c = withProblems();
    const report = validateBars(c, { timeframe: '1m', file: 'x.csv' });
    expect(() => applyPolicy(c, report, 'reject')).toThrow(DataError);
    expect(() => applyPolicy(c, report, 'reject')).toThrow(/^x\.csv, row 5, column high: high-below-low/);
    const gapOnly = barsToColumns(clean(10).map((b, i) => (i > 5 ? { ...b, time: b.time + MIN } : b)));
    expect(applyPolicy(gapOnly, validateBars(gapOnly, { timeframe: '1m' }), 'reject')).toBe(gapOnly);
  });

  it('drop removes bad rows and keeps the rest in order', () => {
    const c = withProblems();
    const out = applyPolicy(c, validateBars(c, { timeframe: '1m' }), 'drop');
    expect(out.length).toBe(9);
    expect(Array.from(out.time)).toEqual([0, 1, 2, 4, 5, 6, 7, 10, 11].map((i) => c.time[0] + i * MIN));
    expect(validateBars(out, { timeframe: '1m' }).errors).toBe(0);
  });

  it('ffill repairs bad rows from the previous close and fills gaps with flat bars', () => {
    const c = withProblems();
    const out = applyPolicy(c, validateBars(c, { timeframe: '1m' }), 'ffill');
    // 11 rows - 1 duplicate + 2 filled gap bars
    expect(out.length).toBe(12);
    expect(Array.from(out.time)).toEqual(Array.from({ length: 12 }, (_, i) => c.time[0] + i * MIN));
    const prev = c.close[2];
    expect([out.open[3], out.high[3], out.low[3], out.close[3]]).toEqual([prev, prev, prev, prev]);
    expect(out.volume[3]).toBe(c.volume[3]);
    // gap bars at minutes 8 and 9 carry the close of minute 7 and volume 0
    expect(out.time[8]).toBe(c.time[0] + 8 * MIN);
    expect(out.time[9]).toBe(c.time[0] + 9 * MIN);
    expect(out.close[8]).toBe(c.close[8]);
    expect(out.high[9]).toBe(c.close[8]);
    expect(out.volume[8]).toBe(0);
    const after = validateBars(out, { timeframe: '1m' });
    expect(after.clean).toBe(true);
  });

  it('carries extra columns through drop and fills them with NaN/empty for synthetic bars', () => {
    const c0 = withProblems();
    const c: BarColumns = {
      ...c0,
      extra: { sig: Float64Array.from({ length: 11 }, (_, i) => i) },
      extraText: { tag: Array.from({ length: 11 }, (_, i) => `t${i}`) },
    };
    const r = validateBars(c, { timeframe: '1m' });
    const dropped = applyPolicy(c, r, 'drop');
    expect(Array.from(dropped.extra?.sig ?? [])).toEqual([0, 1, 2, 4, 6, 7, 8, 9, 10]);
    const filled = applyPolicy(c, r, 'ffill');
    expect(filled.extra?.sig[8]).toBeNaN();
    expect(filled.extraText?.tag[8]).toBe('');
    expect(filled.extraText?.tag[10]).toBe('t9');
  });
});

describe('selectKth', () => {
  it('returns what a sort puts at k, for random, sorted, reversed and repeated input', async () => {
    const { selectKth } = await import('./validate.js');
    const { SeededRandom } = await import('./random.js');
    const rnd = new SeededRandom(5);
    const inputs = [
      Float64Array.from({ length: 1001 }, () => rnd.next() - 0.5),
      Float64Array.from({ length: 500 }, (_, i) => i),
      Float64Array.from({ length: 500 }, (_, i) => -i),
      Float64Array.from({ length: 300 }, (_, i) => i % 3),
      Float64Array.of(7),
    ];
    for (const input of inputs) {
      const sorted = Float64Array.from(input).sort();
      for (const k of [0, input.length >> 1, input.length - 1]) {
        expect(selectKth(Float64Array.from(input), k)).toBe(sorted[k]);
      }
    }
  });
});
