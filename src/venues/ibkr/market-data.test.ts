import { describe, expect, it } from 'vitest';
import type { Bar } from '../../core/bar.js';
import { BarAggregator, ibBarTime, ibDuration, ibEndDateTime, TICK, TopOfBook } from './market-data.js';

describe('IB market data reading', () => {
  it('turns spans into IB durations: seconds up to a day, then days, then years', () => {
    expect(ibDuration(30 * 60_000)).toBe('1800 S');
    expect(ibDuration(10_000)).toBe('60 S');
    expect(ibDuration(86_400_000)).toBe('86400 S');
    expect(ibDuration(86_400_001)).toBe('2 D');
    expect(ibDuration(400 * 86_400_000)).toBe('2 Y');
  });

  it('reads bar times given as epoch seconds or as a yyyyMMdd date, and writes end times in UTC', () => {
    expect(ibBarTime('1764676800')).toBe(1_764_676_800_000);
    expect(ibBarTime('20261202')).toBe(Date.UTC(2026, 11, 2));
    expect(ibBarTime('finished')).toBeNaN();
    expect(ibEndDateTime(Date.UTC(2026, 11, 2, 9, 5, 7))).toBe('20261202-09:05:07');
  });

  it('builds a quote from ticks: -1 means no quote, forex has the mid as last, complete once sizes are in', () => {
    const fx = new TopOfBook('EUR/USD', false);
    fx.price(TICK.BID, 1.1);
    fx.price(TICK.ASK, 1.2);
    expect(fx.complete).toBe(false);
    fx.size(TICK.BID_SIZE, 0);
    fx.size(TICK.ASK_SIZE, 5);
    expect(fx.complete).toBe(true);
    expect(fx.ticker(1).last).toBeCloseTo(1.15, 12);
    fx.price(TICK.BID, -1);
    expect(fx.complete).toBe(false);
    expect(fx.book(1).bids).toEqual([]);
    const stock = new TopOfBook('AAPL/USD', true);
    stock.price(TICK.DELAYED_BID, 10);
    stock.price(TICK.DELAYED_ASK, 11);
    stock.size(TICK.DELAYED_BID_SIZE, 1);
    stock.size(TICK.DELAYED_ASK_SIZE, 1);
    expect(stock.complete).toBe(false);
    stock.price(TICK.DELAYED_LAST, 10.5);
    expect(stock.ticker(2)).toEqual({ symbol: 'AAPL/USD', time: 2, bid: 10, ask: 11, last: 10.5 });
  });

  it('aggregates 5-second bars into a timeframe and closes a bar when the next period starts', () => {
    const out: [Bar, boolean][] = [];
    const agg = new BarAggregator('1m', (b, closed) => out.push([b, closed]));
    const t0 = Date.UTC(2026, 11, 2, 10, 0, 50);
    agg.add(t0, 10, 12, 9, 11, 100);
    agg.add(t0 + 5_000, 11, 13, 10, 12, 50);
    agg.add(t0 + 10_000, 12, 12, 8, 9, 10); // 10:01:00, the next minute
    agg.add(t0 - 5_000, 1, 1, 1, 1, 1); // late: its minute is closed
    expect(out.map(([b, c]) => [b.time, c])).toEqual([
      [Date.UTC(2026, 11, 2, 10, 0), false],
      [Date.UTC(2026, 11, 2, 10, 0), false],
      [Date.UTC(2026, 11, 2, 10, 0), true],
      [Date.UTC(2026, 11, 2, 10, 1), false],
    ]);
    expect(out[2][0]).toEqual({
      time: Date.UTC(2026, 11, 2, 10, 0),
      open: 10,
      high: 13,
      low: 9,
      close: 12,
      volume: 150,
    });
  });
});
