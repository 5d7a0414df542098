import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decimalText, exact } from '../core/money.js';
import { ExactLedger } from './exact-ledger.js';
import { Portfolio } from './portfolio.js';

// One fill as the property draws it: integer ticks and lots, so prices and quantities are what a venue sends.
interface DrawnFill {
  s: number;
  side: 1 | -1;
  lots: number;
  ticks: number;
  feeRate: number;
}

const drawnFill = fc.record({
  s: fc.integer({ min: 0, max: 1 }),
  side: fc.constantFrom<1 | -1>(1, -1),
  lots: fc.integer({ min: 1, max: 5_000_000 }),
  ticks: fc.integer({ min: 1, max: 10_000_000 }),
  feeRate: fc.constantFrom(0, 0.0001, 0.00075, 0.001, 0.002),
});

// Two instruments: a crypto pair (tick 0.01, lot 1e-8) and a contract (tick 0.25, lot 0.001, multiplier 5).
const TICK = [0.01, 0.25];
const LOT = [1e-8, 0.001];
const MULT = [1, 5];

describe('ExactLedger', () => {
  it('books decimals exactly where the doubles drift: ten buys of 0.1 at 0.1 and a sale of all', () => {
    const x = new ExactLedger(1, exact(1));
    const d = new Portfolio(['X'], { cash: 1, exact: 'off' });
    for (let i = 0; i < 10; i++) {
      x.applyFill(0, 1, exact(0.1), exact(0.1), exact(0));
      d.applyFill(0, 1, 0.1, 0.1, 0, i, 'x', undefined);
    }
    expect(decimalText(x.cash)).toBe('0.9');
    expect(decimalText(x.qty[0])).toBe('1');
    expect(d.cash).not.toBe(0.9); // 0.8999999999999999: the doubles' running sum
    x.applyFill(0, -1, exact(1), exact(0.3), exact('0.0003'));
    expect(decimalText(x.realizedPnl)).toBe('0.2');
    expect(decimalText(x.cash)).toBe('1.1997');
    expect(x.qty[0].isZero()).toBe(true);
  });

  it('flips a long into a short at the fill price and realises only the closed part', () => {
    const x = new ExactLedger(1, exact(1000));
    x.applyFill(0, 1, exact(2), exact(100), exact(0));
    x.applyFill(0, -1, exact(3), exact(110), exact(0));
    expect(decimalText(x.realizedPnl)).toBe('20');
    expect(decimalText(x.qty[0])).toBe('-1');
    expect(decimalText(x.avg[0])).toBe('110');
    x.applyFill(0, 1, exact(1), exact(105), exact(0));
    expect(decimalText(x.realizedPnl)).toBe('25');
    expect(x.qty[0].isZero()).toBe(true);
    expect(decimalText(x.cash)).toBe('1025');
  });

  it('under authority the portfolio reads its doubles from the exact ledger (no running float sum)', () => {
    const p = new Portfolio(['X'], { cash: 1, exact: 'authority' });
    for (let i = 0; i < 10; i++) p.applyFill(0, 1, 0.1, 0.1, 0, i, 'x', undefined);
    expect(p.cash).toBe(0.9);
    expect(p.qty[0]).toBe(1);
    p.applyFill(0, -1, 0.3, 0.1 + 0.2, 0, 11, 'x', undefined);
    expect(p.qty[0]).toBe(0.7);
    expect(p.realizedPnl).toBe(0.06);
  });

  it('property: the double ledger agrees with the exact ledger to the cent (random fills, fees, partials, shorts)', () => {
    fc.assert(
      fc.property(fc.array(drawnFill, { minLength: 1, maxLength: 300 }), (fills: DrawnFill[]) => {
        const d = new Portfolio(['A', 'B'], { cash: 1_000_000, margin: true, leverage: 10, multipliers: MULT });
        const x = d.exact!;
        for (let i = 0; i < fills.length; i++) {
          const f = fills[i];
          // Quantities and prices are lot and tick multiples; in doubles they carry the multiplication's noise.
          const qty = f.lots * LOT[f.s];
          const price = f.ticks * TICK[f.s];
          const fee = qty * price * MULT[f.s] * f.feeRate;
          d.applyFill(f.s, f.side, qty, price, fee, i, 'x', undefined);
        }
        const cent = 0.005;
        expect(Math.abs(d.cash - x.cash.toNumber())).toBeLessThan(cent);
        expect(Math.abs(d.realizedPnl - x.realizedPnl.toNumber())).toBeLessThan(cent);
        expect(Math.abs(d.feesPaid - x.feesPaid.toNumber())).toBeLessThan(cent);
        for (let s = 0; s < 2; s++) {
          expect(Math.abs(d.qty[s] - x.qty[s].toNumber())).toBeLessThan(LOT[s] / 2);
          expect(Math.abs(d.realizedBySymbol[s] - x.realizedBySymbol[s].toNumber())).toBeLessThan(cent);
        }
      }),
      { numRuns: 300 },
    );
  });
});
