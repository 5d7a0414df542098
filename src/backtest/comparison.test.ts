import { describe, expect, it } from 'vitest';
import { compareRuns, downsampleEquity, equityAt, formatComparison } from './comparison.js';
import { dataHash } from './data-hash.js';

describe('downsampleEquity', () => {
  it('keeps the last point of each bucket and always the final value', () => {
    const time = Float64Array.from({ length: 10 }, (_v, i) => i * 10);
    const value = Float64Array.from({ length: 10 }, (_v, i) => 100 + i);
    const d = downsampleEquity({ time, value }, 4);
    expect(d.time).toEqual([20, 40, 70, 90]);
    expect(d.value).toEqual([102, 104, 107, 109]);
    expect(downsampleEquity({ time, value }, 20).time).toHaveLength(10);
  });
});

describe('equityAt', () => {
  it('is the last value at or before the time, null before the start', () => {
    const eq = { time: [10, 20, 30], value: [1, 2, 3] };
    expect(equityAt(eq, 5)).toBeNull();
    expect(equityAt(eq, 10)).toBe(1);
    expect(equityAt(eq, 25)).toBe(2);
    expect(equityAt(eq, 99)).toBe(3);
  });
});

describe('compareRuns', () => {
  const a = {
    id: 'bt-a',
    metrics: { finalEquity: 110, sharpe: null, trades: 3, startTime: 0 },
    fingerprint: 'f1',
    equity: { time: [0, 50, 100], value: [100, 105, 110] },
  };
  const b = {
    id: 'bt-b',
    metrics: { finalEquity: 95, sharpe: 0.5, trades: 4, startTime: 0 },
    fingerprint: 'f2',
    equity: { time: [0, 100], value: [100, 95] },
  };

  it('puts every numeric metric side by side with b - a, and both equities on one grid', () => {
    const c = compareRuns(a, b, 3);
    expect(c.metrics.find((m) => m.name === 'finalEquity')).toEqual({ name: 'finalEquity', a: 110, b: 95, diff: -15 });
    expect(c.metrics.find((m) => m.name === 'sharpe')).toEqual({ name: 'sharpe', a: null, b: 0.5, diff: null });
    expect(c.metrics.some((m) => m.name === 'startTime')).toBe(false);
    expect(c.equity).toEqual([
      { time: 0, a: 100, b: 100 },
      { time: 50, a: 105, b: 100 },
      { time: 100, a: 110, b: 95 },
    ]);
    expect(c.sameResult).toBe(false);
    const text = formatComparison(c);
    expect(text).toMatch(/finalEquity\s+110\s+95\s+-15/);
    expect(text).toContain('fingerprints differ');
  });

  it('says when both runs made the same trades', () => {
    expect(compareRuns(a, { ...b, fingerprint: 'f1' }).sameResult).toBe(true);
  });
});

describe('dataHash', () => {
  const cols = (close: number[]) => ({
    length: close.length,
    time: Float64Array.from(close, (_c, i) => i),
    open: Float64Array.from(close),
    high: Float64Array.from(close),
    low: Float64Array.from(close),
    close: Float64Array.from(close),
    volume: Float64Array.from(close, () => 1),
  });

  it('changes with any price or the symbol, and hashes only the rows in view', () => {
    const h = dataHash([{ symbol: 'X', columns: cols([1, 2, 3]) }]);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(dataHash([{ symbol: 'X', columns: cols([1, 2, 3]) }])).toBe(h);
    expect(dataHash([{ symbol: 'X', columns: cols([1, 2, 3.0000001]) }])).not.toBe(h);
    expect(dataHash([{ symbol: 'Y', columns: cols([1, 2, 3]) }])).not.toBe(h);
    const wide = cols([1, 2, 3, 4]);
    const view = {
      ...wide,
      length: 3,
      time: wide.time.subarray(0, 3),
      open: wide.open.subarray(0, 3),
      high: wide.high.subarray(0, 3),
      low: wide.low.subarray(0, 3),
      close: wide.close.subarray(0, 3),
      volume: wide.volume.subarray(0, 3),
    };
    expect(dataHash([{ symbol: 'X', columns: view }])).toBe(h);
  });
});
