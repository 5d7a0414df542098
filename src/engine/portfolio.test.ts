import { describe, expect, it } from 'vitest';
import { exact } from '../core/money.js';
import { Portfolio } from './portfolio.js';

describe('Portfolio accounting', () => {
  it('long: average price on adds, realised P&L on a partial close, unrealised on the rest', () => {
    const p = new Portfolio(['X'], { cash: 10_000 });
    p.applyFill(0, 1, 10, 100, 1, 1, 'x', 'tagA');
    p.applyFill(0, 1, 10, 110, 1, 2, 'x', undefined);
    expect(p.qty[0]).toBe(20);
    expect(p.avg[0]).toBe(105);
    expect(p.cash).toBe(10_000 - 1000 - 1 - 1100 - 1);
    p.applyFill(0, -1, 5, 120, 0.5, 3, 'x', undefined);
    expect(p.realizedPnl).toBe(75);
    expect(p.avg[0]).toBe(105);
    p.mark(0, 130);
    expect(p.unrealizedPnl('X')).toBe(15 * 25);
    expect(p.equity()).toBeCloseTo(p.cash + 15 * 130, 10);
    const t = p.applyFill(0, -1, 15, 90, 1, 4, 'stop_loss', undefined)!;
    expect(t.side).toBe('long');
    expect(t.quantity).toBe(20);
    expect(t.entryPrice).toBe(105);
    expect(t.exitPrice).toBeCloseTo((5 * 120 + 15 * 90) / 20, 10);
    expect(t.fees).toBeCloseTo(3.5, 10);
    expect(t.pnl).toBeCloseTo(75 + 15 * (90 - 105) - 3.5, 10);
    expect(t.exitReason).toBe('stop_loss');
    expect(t.entryTag).toBe('tagA');
    expect(p.cash).toBeCloseTo(10_000 + t.pnl, 10);
    expect(p.openPositions).toBe(0);
  });

  it('short in a margin account: proceeds held as cash, profit when covering lower', () => {
    const p = new Portfolio(['X'], { cash: 1000, margin: true, leverage: 2 });
    p.applyFill(0, -1, 10, 100, 0, 1, 'x', undefined);
    expect(p.cash).toBe(2000);
    p.mark(0, 90);
    expect(p.equity()).toBe(1100);
    expect(p.marginUsed()).toBe(450);
    expect(p.freeMargin()).toBe(650);
    const t = p.applyFill(0, 1, 10, 90, 0, 2, 'exit_signal', undefined)!;
    expect(t.side).toBe('short');
    expect(t.pnl).toBe(100);
    expect(p.cash).toBe(1100);
  });

  it('a fill larger than the position flips it and splits the fee', () => {
    const p = new Portfolio(['X'], { cash: 10_000, margin: true });
    p.applyFill(0, 1, 10, 100, 2, 1, 'x', undefined);
    const t = p.applyFill(0, -1, 15, 110, 3, 2, 'exit_signal', undefined)!;
    expect(t.quantity).toBe(10);
    expect(t.fees).toBeCloseTo(2 + 2, 10);
    expect(p.qty[0]).toBe(-5);
    expect(p.avg[0]).toBe(110);
  });

  it('buying power: a cash account needs cost + fee within cash and cannot short; margin uses leverage', () => {
    const cashAcct = new Portfolio(['X'], { cash: 1000 });
    expect(cashAcct.canAfford(0, 1, 9, 110, 1)).toBe(true);
    expect(cashAcct.canAfford(0, 1, 10, 100, 1)).toBe(false);
    expect(cashAcct.canAfford(0, -1, 1, 100, 0)).toBe(false);
    const m = new Portfolio(['X'], { cash: 1000, margin: true, leverage: 3 });
    expect(m.canAfford(0, 1, 29, 100, 0)).toBe(true);
    expect(m.canAfford(0, 1, 31, 100, 0)).toBe(false);
    expect(m.canAfford(0, -1, 29, 100, 0)).toBe(true);
  });

  it('a cash flow that is not a fill (funding) moves cash and realised P&L, not the position or its trade', () => {
    const p = new Portfolio(['X', 'Y'], { cash: 10_000, margin: true });
    p.applyFill(1, 1, 2, 100, 0, 1, 'x', undefined);
    p.bookCashFlow(1, -0.06);
    p.bookCashFlow(1, 0.02);
    expect(p.cash).toBeCloseTo(10_000 - 200 - 0.04, 10);
    expect(p.realizedPnl).toBeCloseTo(-0.04, 10);
    expect(p.realizedBySymbol[1]).toBeCloseTo(-0.04, 10);
    expect(p.realizedBySymbol[0]).toBe(0);
    expect(p.qty[1]).toBe(2);
    expect(p.avg[1]).toBe(100);
    expect(p.feesPaid).toBe(0);
    const t = p.applyFill(1, -1, 2, 100, 0, 2, 'exit_signal', undefined)!;
    expect(t.pnl).toBe(0);
  });
});

describe('Portfolio closed trades in exact decimals (paper and live: the exact ledger is the account)', () => {
  it('a closed trade carries its exact text and its doubles are the nearest readings of it', () => {
    const books = (['shadow', 'authority'] as const).map((role) => {
      const p = new Portfolio(['X'], { cash: 1000, exact: role });
      p.applyFill(0, 1, 0.1, 0.1 + 0.2, 1e-8, 1, 'x', undefined);
      p.applyFill(0, 1, 0.2, 0.7, 2e-8, 2, 'x', undefined);
      return p.applyFill(0, -1, 0.1 + 0.2, 0.4, 0.00012, 3, 'exit_signal', undefined)!;
    });
    const [backtest, live] = books;
    // A backtest keeps its double bookkeeping (and no exact text).
    expect(backtest.exact).toBeUndefined();
    expect(backtest.quantity).toBe(0.30000000000000004);
    expect(backtest.pnl).not.toBe(-0.05012003);
    expect(live.exact).toEqual({
      entryPrice: '0.5666666666666666666666666666666666666667',
      exitPrice: '0.4',
      quantity: '0.3',
      fees: '0.00012003',
      pnl: '-0.05012003',
    });
    expect(live).toMatchObject({ quantity: 0.3, pnl: -0.05012003, fees: 0.00012003, exitPrice: 0.4 });
    expect(live.entryPrice).toBe(Number(live.exact?.entryPrice));
  });

  it('books the fill the venue sent (a fee in the base asset valued at the fill price), short and flipped trips', () => {
    const p = new Portfolio(['X'], { cash: 1000, margin: true, exact: 'authority' });
    // A buy of 0.30000001 at 0.3 credited 0.29970001 (0.0003 taken in the base asset: 0.00009 in quote).
    p.applyFill(0, 1, 0.29970001, 0.30000000000000004, 0.00009, 1, 'x', undefined, {
      price: exact('0.3'),
      executed: exact('0.30000001'),
      booked: exact('0.29970001'),
      fee: exact('0.00009'),
    });
    // Sells 0.39970001: closes the long, and the rest (0.1) opens a short with its share of the fee.
    const t = p.applyFill(0, -1, 0.39970001, 0.4, 0.0004, 2, 'exit_signal', 'flip', {
      price: exact('0.4'),
      executed: exact('0.39970001'),
      booked: exact('0.39970001'),
      fee: exact('0.0004'),
    })!;
    const closeFee = exact('0.0004').mul('0.29970001').div('0.39970001');
    expect(t.exact).toEqual({
      entryPrice: '0.3',
      exitPrice: '0.4',
      quantity: '0.29970001',
      fees: exact('0.00009').plus(closeFee).toFixed(),
      pnl: exact('0.029970001').minus('0.00009').minus(closeFee).toFixed(),
    });
    expect(p.qty[0]).toBeCloseTo(-0.1, 12);
    const s = p.applyFill(0, 1, 0.1, 0.1 + 0.2, 0, 3, 'exit_signal', undefined)!;
    expect(s.side).toBe('short');
    expect(s.exact).toEqual({
      entryPrice: '0.4',
      exitPrice: '0.3',
      quantity: '0.1',
      fees: exact('0.0004').minus(closeFee).toFixed(),
      pnl: exact('0.01').minus(exact('0.0004').minus(closeFee)).toFixed(),
    });
    // The trips' P&L adds up to the ledger's realised P&L less its fees, exactly.
    const book = p.exact!;
    expect(exact(t.exact!.pnl).plus(s.exact!.pnl).toFixed()).toBe(book.realizedPnl.minus(book.feesPaid).toFixed());
  });
});
