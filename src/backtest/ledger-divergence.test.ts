import { describe, expect, it } from 'vitest';
import { Portfolio } from '../engine/portfolio.js';
import { ledgerDivergence } from './ledger-divergence.js';

describe('ledgerDivergence', () => {
  it('is null when the double ledger agrees with the exact one to the cent', () => {
    const pf = new Portfolio(['X'], { cash: 10_000 });
    for (let i = 0; i < 1000; i++)
      pf.applyFill(0, i % 2 === 0 ? 1 : -1, 0.1, 100.01 + (i % 7) * 0.01, 0.01, i, 'x', undefined);
    expect(ledgerDivergence(pf)).toBeNull();
  });

  it('reports both figures where doubles run out of digits (cash of 1e15: a cent fee is below the double step)', () => {
    const pf = new Portfolio(['X'], { cash: 1e15 });
    // 0.01 is less than half the spacing of doubles near 1e15 (0.125): the double cash never moves.
    for (let i = 0; i < 100; i++) pf.applyFill(0, 1, 1, 1, 0.01, i, 'x', undefined);
    const d = ledgerDivergence(pf);
    expect(d).not.toBeNull();
    expect(d!.fees.exact).toBe('1');
    expect(d!.cash.exact).toBe('999999999999899');
    expect(d!.cash.double).toBe(pf.cash);
    expect(d!.largest).toBeGreaterThanOrEqual(0.5);
  });
});
