import { describe, expect, it } from 'vitest';
import { exact } from './money.js';
import { VenueError } from './errors.js';
import { exactChanges, modificationTerms } from './venue.js';

describe("exactChanges: an order modification's new terms as exact decimals", () => {
  it('reads text as written and keeps exact values; absent terms stay absent', () => {
    const x = exactChanges({ quantity: '0.00000001', price: exact('0.1').plus('0.2') });
    expect(x.quantity?.toFixed()).toBe('0.00000001');
    expect(x.price?.toFixed()).toBe('0.3');
    expect('stopPrice' in x).toBe(false);
    expect(exactChanges({ stopPrice: '12345678.123456789' }).stopPrice?.toFixed()).toBe('12345678.123456789');
  });

  it('refuses a text that is not a decimal in one line naming the term', () => {
    expect(() => exactChanges({ stopPrice: '1,5' })).toThrow(/^modifyOrder stopPrice: "1,5" is not a decimal number$/);
  });

  it("at an adapter's edge the refusal is the venue's non-retryable invalid-order error", () => {
    let err: unknown;
    try {
      modificationTerms({ price: '29 700' }, 'paper', 'IBKR paper');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(VenueError);
    expect(err).toMatchObject({ retryable: false, venue: 'paper', code: 'VENUE_INVALID_ORDER' });
    expect((err as Error).message).toBe('IBKR paper: modifyOrder price: "29 700" is not a decimal number');
    expect(modificationTerms({ quantity: '1' }, 'paper').quantity?.toFixed()).toBe('1');
  });
});
