import { describe, expect, it } from 'vitest';
import { exact } from '../../core/money.js';
import { ibOrderAmounts } from './order-amounts.js';

describe('ibOrderAmounts: an IBKR order on the contract grid in exact decimals', () => {
  it('whole shares toward zero; limits to the passive side of minTick, stops away from the market', () => {
    expect(ibOrderAmounts({ side: 'buy', quantity: 10.9, price: 187.237 }, 0.01)).toEqual({
      quantity: 10,
      price: 187.23,
    });
    expect(ibOrderAmounts({ side: 'sell', quantity: 3, price: 187.231, stopPrice: 180.019 }, 0.01)).toEqual({
      quantity: 3,
      price: 187.24,
      stopPrice: 180.01,
    });
    expect(ibOrderAmounts({ side: 'buy', quantity: 1, stopPrice: 4500.1 }, 0.25)).toEqual({
      quantity: 1,
      stopPrice: 4500.25,
    });
  });

  it('float residue is not a tick or a share, and the exact text wins over the double', () => {
    // 0.1 × 3 × 10 is 3.0000000000000004 in doubles: three shares; a price with residue lands on its tick.
    expect(ibOrderAmounts({ side: 'buy', quantity: 0.1 * 3 * 10, price: 100.00999999999999 }, 0.01)).toEqual({
      quantity: 3,
      price: 100.01,
    });
    expect(
      ibOrderAmounts({ side: 'sell', quantity: 5, price: 99, exact: { quantity: '4', price: '99.5' } }, 0.5),
    ).toEqual({ quantity: 4, price: 99.5 });
  });

  it("a modification's exact terms are sent even where the order had no such double, and a value may be an Exact", () => {
    // A working stop given a limit (stop-limit terms) and a quantity as an exact value: 0.1 + 0.2 lots of ten shares.
    expect(
      ibOrderAmounts(
        { side: 'buy', quantity: 5, stopPrice: 101, exact: { quantity: exact('3.0000000001'), price: '100.009' } },
        0.01,
      ),
    ).toEqual({ quantity: 3, price: 100, stopPrice: 101 });
  });
});
