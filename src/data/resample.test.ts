import { describe, expect, it } from 'vitest';
import { barsToColumns, ValidationError } from '../core/index.js';
import { bucketStart, resample } from './resample.js';

const MIN = 60_000;
const H = 60 * MIN;
const DAY = 24 * H;

describe('resample', () => {
  it('aggregates 1m into 5m buckets aligned to the epoch (hand-checked)', () => {
    const t0 = Date.UTC(2024, 0, 1, 0, 3); // 00:03, so the first bucket (00:00) is partial
    const closes = [10, 11, 9, 12, 13, 8, 14, 15];
    const bars = closes.map((c, i) => ({
      time: t0 + i * MIN,
      open: c - 0.5,
      high: c + 1,
      low: c - 1,
      close: c,
      volume: i + 1,
    }));
    const r = resample(barsToColumns(bars), '1m', '5m');
    expect(r.length).toBe(3);
    expect(Array.from(r.time)).toEqual([0, 5, 10].map((m) => Date.UTC(2024, 0, 1, 0, m)));
    // 00:00 bucket: 00:03, 00:04 -> closes 10, 11
    expect([r.open[0], r.high[0], r.low[0], r.close[0], r.volume[0]]).toEqual([9.5, 12, 9, 11, 3]);
    // 00:05 bucket: 00:05..00:09 -> closes 9, 12, 13, 8, 14
    expect([r.open[1], r.high[1], r.low[1], r.close[1], r.volume[1]]).toEqual([8.5, 15, 7, 14, 3 + 4 + 5 + 6 + 7]);
    // 00:10 bucket: 00:10 -> close 15
    expect([r.open[2], r.high[2], r.low[2], r.close[2], r.volume[2]]).toEqual([14.5, 16, 14, 15, 8]);
  });

  it('starts weeks on Monday 00:00 UTC', () => {
    // 2024-01-03 is a Wednesday; its week starts Monday 2024-01-01.
    expect(bucketStart(Date.UTC(2024, 0, 3, 15), '1w')).toBe(Date.UTC(2024, 0, 1));
    expect(bucketStart(Date.UTC(2024, 0, 7, 23, 59), '1w')).toBe(Date.UTC(2024, 0, 1));
    expect(bucketStart(Date.UTC(2024, 0, 8), '1w')).toBe(Date.UTC(2024, 0, 8));
    const days = Array.from({ length: 10 }, (_, i) => ({
      time: Date.UTC(2024, 0, 4) + i * DAY, // Thu 4 .. Sat 13
      open: i + 1,
      high: i + 2,
      low: i,
      close: i + 1.5,
      volume: 1,
    }));
    const w = resample(barsToColumns(days), '1d', '1w');
    expect(Array.from(w.time)).toEqual([Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 8)]);
    expect([w.open[0], w.close[0], w.high[0], w.low[0], w.volume[0]]).toEqual([1, 4.5, 5, 0, 4]);
    expect([w.open[1], w.close[1], w.high[1], w.low[1], w.volume[1]]).toEqual([5, 10.5, 11, 4, 6]);
  });

  it('aligns 4h and 1d buckets to UTC', () => {
    const bars = Array.from({ length: 48 }, (_, i) => ({
      time: Date.UTC(2024, 0, 1, 1) + i * H,
      open: 1,
      high: 2,
      low: 0.5,
      close: 1,
      volume: 1,
    }));
    const h4 = resample(barsToColumns(bars), '1h', '4h');
    expect(h4.time[0]).toBe(Date.UTC(2024, 0, 1, 0));
    expect(h4.volume[0]).toBe(3);
    expect(h4.volume[1]).toBe(4);
    const d = resample(barsToColumns(bars), '1h', '1d');
    expect(Array.from(d.volume)).toEqual([23, 24, 1]);
  });

  it('refuses to downsample', () => {
    expect(() => resample(barsToColumns([]), '1h', '1m')).toThrow(ValidationError);
    expect(() => resample(barsToColumns([]), '1h', '1m')).toThrow(/cannot resample 1h down to 1m/);
  });
});
