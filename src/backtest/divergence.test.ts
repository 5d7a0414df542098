import { describe, expect, it } from 'vitest';
import type { ClosedTrade } from '../core/events.js';
import { compareExecutions, EXACT_TOLERANCE, type Execution, tradeExecutions, tradesPnl } from './divergence.js';

const T = 1_700_000_000_000;
const fill = (over: Partial<Execution> = {}): Execution => ({
  time: T,
  symbol: 'BTC/USDT',
  side: 'buy',
  price: 100,
  quantity: 1,
  orderType: 'market',
  ...over,
});

describe('compareExecutions', () => {
  it('identical executions match with no difference', () => {
    const xs = [fill(), fill({ time: T + 60_000, side: 'sell', price: 110 })];
    const r = compareExecutions(
      xs,
      xs.map((x) => ({ ...x })),
    );
    expect(r.verdict).toBe('match');
    expect(r.differences).toEqual([]);
    expect(r.matched).toHaveLength(2);
    expect(r.pnl.difference).toBe(0);
  });

  it('names a missed and an extra fill', () => {
    const expected = [fill(), fill({ time: T + 60_000, side: 'sell', price: 110 })];
    const actual = [fill(), fill({ time: T + 120_000, symbol: 'ETH/USDT', side: 'sell', price: 10 })];
    const r = compareExecutions(expected, actual);
    expect(r.verdict).toBe('diverged');
    expect(r.missed).toHaveLength(1);
    expect(r.extra).toHaveLength(1);
    expect(r.differences[0]).toMatch(/^missed: expected sell 1 BTC\/USDT at 110 /);
    expect(r.differences.some((d) => /^extra: sell 1 ETH\/USDT at 10 /.test(d))).toBe(true);
  });

  it('reports price, time, quantity and reason differences, and slippage by order type against the trader', () => {
    const expected = [fill({ reason: 'entry' }), fill({ time: T + 60_000, side: 'sell', price: 110, reason: 'roi' })];
    const actual = [
      fill({ price: 100.1, reason: 'entry', orderType: 'market' }),
      fill({ time: T + 61_000, side: 'sell', price: 109.89, quantity: 0.999, reason: 'stop_loss', orderType: 'stop' }),
    ];
    const r = compareExecutions(expected, actual);
    expect(r.matched[0].slippageBps).toBeCloseTo(10, 9); // paid 10 bp more on a buy
    expect(r.matched[1].slippageBps).toBeCloseTo(10, 9); // received 10 bp less on a sell
    expect(r.slippageByOrderType.market).toMatchObject({ count: 1 });
    expect(r.slippageByOrderType.stop.maxBps).toBeCloseTo(10, 9);
    expect(r.differences[1]).toMatch(
      /time \+1000 ms, price 109.89 instead of 110 \(\+10 bp\), quantity 0.999 instead of 1, reason stop_loss instead of roi/,
    );
    expect(r.pnl.expected).toBeCloseTo(10, 9);
    expect(r.pnl.actual).toBeCloseTo(109.89 * 0.999 - 100.1, 9);
    expect(r.differences.at(-1)).toMatch(/^P&L /);
  });

  it('a tolerance lets small differences pass, not larger ones', () => {
    const expected = [fill()];
    const actual = [fill({ price: 100.004, time: T + 500 })];
    const tol = { ...EXACT_TOLERANCE, priceBps: 0.5, timeMs: 1000, pnl: 0.01 };
    expect(compareExecutions(expected, actual, { tolerance: tol }).verdict).toBe('match');
    expect(compareExecutions(expected, [fill({ price: 100.006 })], { tolerance: tol }).verdict).toBe('diverged');
  });

  it('pairs each execution with the nearest of its symbol and side within the window', () => {
    const expected = [fill({ time: T }), fill({ time: T + 60_000 })];
    const actual = [fill({ time: T + 60_000 }), fill({ time: T })];
    expect(compareExecutions(expected, actual).verdict).toBe('match');
    const far = compareExecutions(expected, [fill({ time: T + 10 * 60_000 })], { matchWindowMs: 5 * 60_000 });
    expect(far.missed).toHaveLength(2);
    expect(far.extra).toHaveLength(1);
  });
});

describe('tradeExecutions', () => {
  it('turns a long and a short round trip into entry and exit executions with the exit reason', () => {
    const base = { strategyId: 's', symbol: 'X', fees: 0, pnlPct: 0, quantity: 2 };
    const trades: ClosedTrade[] = [
      { ...base, side: 'long', entryTime: 1, entryPrice: 10, exitTime: 3, exitPrice: 12, pnl: 4, exitReason: 'roi' },
      {
        ...base,
        side: 'short',
        entryTime: 2,
        entryPrice: 11,
        exitTime: 4,
        exitPrice: 9,
        pnl: 4,
        exitReason: 'stop_loss',
      },
    ];
    const xs = tradeExecutions(trades);
    expect(xs.map((x) => [x.time, x.side, x.reason])).toEqual([
      [1, 'buy', 'entry'],
      [2, 'sell', 'entry'],
      [3, 'sell', 'roi'],
      [4, 'buy', 'stop_loss'],
    ]);
    expect(tradesPnl(trades)).toBe(8);
  });
});
