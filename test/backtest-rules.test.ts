import { describe, expect, it } from 'vitest';
import { runBacktest } from '../src/backtest/runner.js';
import { RiskLimitError } from '../src/core/errors.js';
import type { Strategy, StrategyContext } from '../src/strategy/types.js';
import { candles, DAY, MIN, T0 } from './backtest-helpers.js';

/** A strategy driven by a per-bar script: script[i] runs on bar i. */
function scripted(script: Record<number, (ctx: StrategyContext) => void>): Strategy {
  return {
    onBar(ctx) {
      script[ctx.bar.index]?.(ctx);
    },
  };
}

const flat = (n: number, p = 100) => Array.from({ length: n }, () => [p, p, p, p]);

describe('backtest rules (hand-built candles)', () => {
  it('a market order signalled on bar N fills at the open of bar N+1, fees 0.1% per side', () => {
    const data = candles([
      [100, 101, 99, 100],
      [102, 103, 101, 102],
      [104, 110, 103, 108],
      [109, 111, 107, 110],
    ]);
    const r = runBacktest({
      data: { symbol: 'X', columns: data, timeframe: '1d' },
      strategy: scripted({ 0: (c) => c.buy({ quantity: 10 }), 2: (c) => c.sell() }),
      fee: 0.001,
    });
    expect(r.trades).toHaveLength(1);
    const t = r.trades[0];
    expect(t.entryTime).toBe(T0 + DAY);
    expect(t.entryPrice).toBe(102);
    expect(t.exitTime).toBe(T0 + 3 * DAY);
    expect(t.exitPrice).toBe(109);
    expect(t.fees).toBeCloseTo(10 * 102 * 0.001 + 10 * 109 * 0.001, 10);
    expect(t.pnl).toBeCloseTo((109 - 102) * 10 - t.fees, 10);
    expect(t.exitReason).toBe('exit_signal');
    expect(r.finalEquity).toBeCloseTo(100_000 + t.pnl, 8);
  });

  it('an entry signalled on the last bar never fills, and open positions close at the last close (end_of_data)', () => {
    const data = candles([
      [100, 100, 100, 100],
      [101, 102, 100, 101],
      [103, 104, 102, 103],
    ]);
    const none = runBacktest({
      data: { symbol: 'X', columns: data, timeframe: '1d' },
      strategy: scripted({ 2: (c) => c.buy({ quantity: 1 }) }),
    });
    expect(none.trades).toHaveLength(0);
    expect(none.finalEquity).toBe(100_000);
    const eod = runBacktest({
      data: { symbol: 'X', columns: data, timeframe: '1d' },
      strategy: scripted({ 0: (c) => c.buy({ quantity: 1 }) }),
      fee: 0,
    });
    expect(eod.trades[0].exitReason).toBe('end_of_data');
    expect(eod.trades[0].exitPrice).toBe(103);
  });

  it('a stop-loss gapped through exits at the open; a touched one at its price', () => {
    const run = (rows: number[][]) =>
      runBacktest({
        data: { symbol: 'X', columns: candles(rows), timeframe: '1d' },
        strategy: scripted({ 0: (c) => c.buy({ quantity: 1 }) }),
        fee: 0,
        exits: { stopLoss: 0.1 },
      }).trades[0];
    const gap = run([
      [100, 100, 100, 100],
      [100, 101, 99, 100],
      [80, 82, 78, 81],
    ]);
    expect(gap.exitReason).toBe('stop_loss');
    expect(gap.exitPrice).toBe(80);
    const touch = run([
      [100, 100, 100, 100],
      [100, 101, 99, 100],
      [95, 96, 85, 93],
    ]);
    expect(touch.exitPrice).toBeCloseTo(90, 10);
    expect(touch.exitTime).toBe(T0 + 2 * DAY);
  });

  it('stop and ROI in one bar: the stop wins; the stop is checked on the entry bar itself', () => {
    const r = runBacktest({
      data: {
        symbol: 'X',
        columns: candles(
          [
            [100, 100, 100, 100],
            [100, 106, 94, 100],
          ],
          MIN,
        ),
        timeframe: '1m',
      },
      strategy: scripted({ 0: (c) => c.buy({ quantity: 1 }) }),
      fee: 0,
      exits: { stopLoss: 0.05, roi: { '0': 0.05 } },
    });
    expect(r.trades[0].exitReason).toBe('stop_loss');
    expect(r.trades[0].exitPrice).toBeCloseTo(95, 10);
  });

  it('trailing stop activates by offset and ratchets from the highs', () => {
    const r = runBacktest({
      data: {
        symbol: 'X',
        columns: candles(
          [
            [100, 100, 100, 100],
            [100, 101, 99.5, 100.5],
            [100.5, 104, 103, 103.9],
            [103.9, 106, 105, 105.9],
            [105.5, 105.6, 104, 104.5],
          ],
          MIN,
        ),
        timeframe: '1m',
      },
      strategy: scripted({ 0: (c) => c.buy({ quantity: 1 }) }),
      fee: 0,
      exits: { stopLoss: 0.1, trailingStop: { enabled: true, positive: 0.01, offset: 0.03, onlyOffsetReached: true } },
    });
    // bar 2 high 104 (+4%) activates a 1% trail at 102.96 (low 103 stays above); bar 3 high 106 raises it to 104.94;
    // bar 4 low 104 hits it
    expect(r.trades[0].exitReason).toBe('trailing_stop');
    expect(r.trades[0].exitPrice).toBeCloseTo(104.94, 8);
    expect(r.trades[0].exitTime).toBe(T0 + 4 * MIN);
  });

  it('shorts: sell at the next open, cover later; profit when the price falls', () => {
    const data = candles([
      [100, 100, 100, 100],
      [100, 101, 99, 100],
      [90, 91, 89, 90],
      [80, 81, 79, 80],
    ]);
    const r = runBacktest({
      data: { symbol: 'X', columns: data, timeframe: '1d' },
      strategy: scripted({ 0: (c) => c.short({ quantity: 10 }), 2: (c) => c.cover() }),
      fee: 0,
      allowShort: true,
    });
    expect(r.trades[0].side).toBe('short');
    expect(r.trades[0].entryPrice).toBe(100);
    expect(r.trades[0].exitPrice).toBe(80);
    expect(r.trades[0].pnl).toBeCloseTo(200, 10);
    const refused = runBacktest({
      data: { symbol: 'X', columns: data, timeframe: '1d' },
      strategy: scripted({ 0: (c) => c.short({ quantity: 10 }) }),
    });
    expect(refused.trades).toHaveLength(0);
  });

  it('limit and stop orders fill inside the bar, or at the open when it gaps', () => {
    const data = candles([
      [100, 100, 100, 100],
      [100, 101, 97, 99],
      [99, 99, 90, 95],
    ]);
    const fills: number[] = [];
    const r = runBacktest({
      data: { symbol: 'X', columns: data, timeframe: '1d' },
      strategy: {
        onBar(c) {
          if (c.bar.index === 0) {
            c.limit('buy', 98, { quantity: 1 }); // low 97 touches: fills at 98
            c.limit('buy', 101, { quantity: 1 }); // open 100 already below: fills at the open
          }
        },
        onFill(_c, f) {
          if (f.side === 'buy') fills.push(f.price);
        },
      },
      fee: 0,
    });
    expect(fills.sort()).toEqual([100, 98].sort());
    expect(r.trades[0].quantity).toBe(2);
    const stops: number[] = [];
    runBacktest({
      data: {
        symbol: 'X',
        columns: candles([
          [100, 100, 100, 100],
          [100, 103, 99, 102],
          [110, 112, 108, 111],
        ]),
        timeframe: '1d',
      },
      strategy: {
        onBar(c) {
          if (c.bar.index === 0) {
            c.stop('buy', 102, { quantity: 1 }); // high 103 triggers at 102
            c.stop('buy', 105, { quantity: 1 }); // bar 2 gaps above 105: fills at the open 110
          }
        },
        onFill(_c, f) {
          if (f.side === 'buy') stops.push(f.price);
        },
      },
      fee: 0,
    });
    expect(stops).toEqual([102, 110]);
  });

  it('partial fills by volume participation; the rest fills on later bars', () => {
    const rows = [
      [100, 100, 100, 100, 1000],
      [100, 100, 100, 100, 300],
      [100, 100, 100, 100, 300],
      [100, 100, 100, 100, 1000],
    ];
    const sizes: number[] = [];
    runBacktest({
      data: { symbol: 'X', columns: candles(rows), timeframe: '1d' },
      strategy: {
        onBar(c) {
          if (c.bar.index === 0) c.buy({ quantity: 50 });
        },
        onFill(_c, f) {
          if (f.side === 'buy') sizes.push(f.quantity);
        },
      },
      participation: 0.1,
      lot: 1,
    });
    expect(sizes).toEqual([30, 20]);
  });

  it('latency in bars delays execution', () => {
    const rows = [
      [100, 100, 100, 100],
      [101, 101, 101, 101],
      [102, 102, 102, 102],
      [103, 103, 103, 103],
    ];
    const r = runBacktest({
      data: { symbol: 'X', columns: candles(rows), timeframe: '1d' },
      strategy: scripted({ 0: (c) => c.buy({ quantity: 1 }) }),
      latency: { bars: 1 },
    });
    expect(r.trades[0].entryPrice).toBe(102);
  });

  it('slippage moves taker fills against the trader', () => {
    const data = candles([
      [100, 100, 100, 100],
      [100, 101, 99, 100],
      [100, 101, 99, 100],
    ]);
    const r = runBacktest({
      data: { symbol: 'X', columns: data, timeframe: '1d' },
      strategy: scripted({ 0: (c) => c.buy({ quantity: 1 }), 1: (c) => c.sell() }),
      fee: 0,
      slippage: { model: 'percentage', rate: 0.01 },
    });
    expect(r.trades[0].entryPrice).toBeCloseTo(101, 10);
    expect(r.trades[0].exitPrice).toBeCloseTo(99, 10);
    const fixed = runBacktest({
      data: { symbol: 'X', columns: data, timeframe: '1d' },
      strategy: scripted({ 0: (c) => c.buy({ quantity: 1 }) }),
      fee: 0,
      slippage: { model: 'fixed', amount: 0.5 },
    });
    expect(fixed.trades[0].entryPrice).toBe(100.5);
  });

  it('a cash account rejects an order it cannot pay at fill time with INSUFFICIENT_FUNDS (not shrunk)', () => {
    const data = candles([
      [100, 100, 100, 100],
      [120, 121, 119, 120],
      [120, 121, 119, 120],
    ]);
    const r = runBacktest({
      data: { symbol: 'X', columns: data, timeframe: '1d' },
      strategy: 'sma-cross',
      params: { fast: 1, slow: 2 },
      cash: 1000,
    });
    expect(r.trades).toHaveLength(0);
    const r2 = runBacktest({
      data: { symbol: 'X', columns: data, timeframe: '1d' },
      strategy: scripted({ 0: (c) => c.buy() }),
      cash: 1000,
      stake: { kind: 'percent', value: 95 },
      lot: 1,
    });
    // 95% of 1000 at the signal close 100 = 9 units; at the 120 open they cost 1080 + fee > 1000
    expect(r2.trades).toHaveLength(0);
    expect(r2.riskEvents.map((e) => e.code)).toEqual(['INSUFFICIENT_FUNDS']);
    expect(r2.riskEvents[0].time).toBe(T0 + DAY);
  });

  it('stake P% sizes from available cash at the signal close, rounded down to the lot', () => {
    const data = candles([
      [100, 100, 100, 33],
      [33, 34, 32, 33],
      [33, 34, 32, 33],
    ]);
    const r = runBacktest({
      data: { symbol: 'X', columns: data, timeframe: '1d' },
      strategy: scripted({ 0: (c) => c.buy() }),
      cash: 1000,
      stake: { kind: 'percent', value: 50 },
      lot: 1,
    });
    expect(r.trades[0].quantity).toBe(15); // floor(500 / 33)
  });

  it('a repeated client order id is placed once', () => {
    const data = candles(flat(4));
    const r = runBacktest({
      data: { symbol: 'X', columns: data, timeframe: '1d' },
      strategy: scripted({
        0: (c) => {
          const a = c.limit('buy', 90, { quantity: 1, clientOrderId: 'abc' });
          const b = c.limit('buy', 90, { quantity: 1, clientOrderId: 'abc' });
          expect(b).toBe(a);
        },
      }),
    });
    expect(r.orders).toBe(1);
  });

  it('a throwing strategy is stopped with its bar time; the engine finishes the run', () => {
    const data = candles(flat(5));
    const r = runBacktest({
      data: { symbol: 'X', columns: data, timeframe: '1d' },
      strategy: scripted({
        0: (c) => c.buy({ quantity: 1 }),
        2: () => {
          throw new Error('boom');
        },
        3: (c) => c.sell(),
      }),
    });
    expect(r.strategyErrors).toEqual([{ time: T0 + 2 * DAY, hook: 'onBar', message: 'boom' }]);
    // bar 3's sell never ran: the position was closed at the end of data
    expect(r.trades[0].exitReason).toBe('end_of_data');
    expect(r.equity.value.length).toBe(5);
  });

  it('a strategy cannot see future bars', () => {
    const rows = Array.from({ length: 20 }, (_, i) => [100 + i, 101 + i, 99 + i, 100 + i]);
    const seen: number[] = [];
    runBacktest({
      data: { symbol: 'X', columns: candles(rows), timeframe: '1d' },
      strategy: {
        onBar(c) {
          const h = c.history();
          expect(h.length).toBe(c.bar.index + 1);
          expect(h.close(0)).toBe(c.bar.close);
          expect(h.close(-1)).toBeNaN();
          expect(h.toArray('close').length).toBe(c.bar.index + 1);
          seen.push(h.toArray('close').at(-1)!);
        },
      },
    });
    expect(seen).toEqual(rows.map((r) => r[3]));
  });

  it('higher timeframes are derived from the base bars and show only closed bars', () => {
    const rows = Array.from({ length: 12 }, (_, i) => [i + 1, i + 1.5, i + 0.5, i + 1, 10]);
    const log: [number, number, number][] = [];
    runBacktest({
      data: { symbol: 'X', columns: candles(rows, MIN), timeframe: '1m' },
      strategy: {
        onBar(c) {
          const h = c.history('X', '5m');
          log.push([c.bar.index, h.length, h.close(0)]);
        },
      },
    });
    expect(log[3]).toEqual([3, 0, Number.NaN]);
    // bar 4 (minute 4) completes the first 5m bucket: close 5
    expect(log[4]).toEqual([4, 1, 5]);
    expect(log[8]).toEqual([8, 1, 5]);
    expect(log[9]).toEqual([9, 2, 10]);
  });

  it('several symbols are merged by time, one equity point per timestamp', () => {
    const a = candles(flat(3, 100));
    const b = candles(flat(3, 50));
    const order: string[] = [];
    const r = runBacktest({
      data: [
        { symbol: 'A', columns: a, timeframe: '1d' },
        { symbol: 'B', columns: b, timeframe: '1d' },
      ],
      strategy: {
        onBar(c) {
          order.push(`${c.symbol}${c.bar.index}`);
          if (c.bar.index === 0) c.buy({ quantity: 1 });
        },
      },
      fee: 0,
    });
    expect(order).toEqual(['A0', 'B0', 'A1', 'B1', 'A2', 'B2']);
    expect(r.equity.value.length).toBe(3);
    expect(r.trades.map((t) => t.symbol).sort()).toEqual(['A', 'B']);
  });

  it('every intent goes through the risk hook; rejections land in riskEvents', () => {
    const data = candles(flat(4));
    let checks = 0;
    const r = runBacktest({
      data: { symbol: 'X', columns: data, timeframe: '1d' },
      strategy: scripted({ 0: (c) => c.buy({ quantity: 5 }), 1: (c) => c.limit('buy', 90, { quantity: 500 }) }),
      risk: {
        check: (intent) => {
          checks++;
          return intent.quantity > 100
            ? new RiskLimitError('MAX_NOTIONAL', 'order too big', 100, intent.quantity)
            : null;
        },
        afterFill: () => {},
        onTradeClosed: () => {},
        onEquity: () => {},
        wantsEquityUpdates: false,
        attach: () => {},
      },
    });
    // the entry, the rejected limit and the end-of-data close
    expect(checks).toBe(3);
    expect(r.riskEvents).toEqual([{ time: T0 + DAY, code: 'MAX_NOTIONAL', detail: 'order too big' }]);
    expect(r.trades).toHaveLength(1);
  });
});
