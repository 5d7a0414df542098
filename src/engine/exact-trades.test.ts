import { describe, expect, it } from 'vitest';
import { exact } from '../core/money.js';
import { ExactTrips } from './exact-trades.js';

const x = (v: string) => exact(v);

describe('ExactTrips (a round trip in decimals)', () => {
  it('averages entries and exits as Σ price × quantity / Σ quantity and nets P&L from the two sums', () => {
    const t = new ExactTrips(1, [x('1')]);
    t.start(0);
    t.grow(0, x('0.1'), x('0.3'), x('0.00000001'));
    t.grow(0, x('0.2'), x('0.7'), x('0.00000002'));
    expect(t.reduce(0, x('0.3'), x('0.4'), x('0.00012'), x('0.3'))).toEqual({ rest: x('0'), restFee: x('0') });
    expect(t.close(0, 1)).toEqual({
      entryPrice: '0.5666666666666666666666666666666666666667',
      exitPrice: '0.4',
      quantity: '0.3',
      fees: '0.00012003',
      // 0.12 − 0.17 − 0.00012003, with no division in it.
      pnl: '-0.05012003',
    });
  });

  it('a short gains when it exits lower; a flip closes only the held part, with its share of the fee', () => {
    const t = new ExactTrips(1, [x('1')]);
    t.start(0);
    t.grow(0, x('3'), x('100.1'), x('0.3'));
    const { rest, restFee } = t.reduce(0, x('4'), x('99.9'), x('0.4'), x('3'));
    expect(rest.toFixed()).toBe('1');
    expect(restFee.toFixed()).toBe('0.1');
    expect(t.close(0, -1)).toEqual({
      entryPrice: '100.1',
      exitPrice: '99.9',
      quantity: '3',
      fees: '0.6',
      pnl: '0',
    });
  });

  it('applies the contract multiplier, and falls back to the averages when the exit differs from the entry', () => {
    const t = new ExactTrips(1, [x('0.1')]);
    t.start(0);
    t.grow(0, x('2'), x('10'), x('0'));
    t.reduce(0, x('1'), x('12'), x('0'), x('2'));
    t.reduce(0, x('0.99999999'), x('14'), x('0'), x('1'));
    const closed = t.close(0, 1);
    expect(closed?.quantity).toBe('2');
    // (exit average − 10) × 2 × 0.1, the exit average being (12 + 13.99999986) / 1.99999999.
    const exitAvg = x('25.99999986').div(x('1.99999999'));
    expect(closed?.exitPrice).toBe(exitAvg.toFixed());
    expect(closed?.pnl).toBe(exitAvg.minus(10).mul(2).mul(x('0.1')).toFixed());
  });

  it('has nothing exact to report for a trip without an entry or an exit', () => {
    const t = new ExactTrips(1, [x('1')]);
    t.start(0);
    t.grow(0, x('1'), x('5'), x('0'));
    expect(t.close(0, 1)).toBeUndefined();
  });
});
