import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../core/errors.js';
import { contractFor, symbolOf } from './contracts.js';

describe('IBKR contracts', () => {
  it('maps a stock to SMART in its currency and a currency pair to IDEALPRO', () => {
    expect(contractFor('AAPL/USD')).toEqual({
      kind: 'stock',
      contract: { symbol: 'AAPL', secType: 'STK', exchange: 'SMART', currency: 'USD' },
    });
    expect(contractFor('EUR/USD')).toEqual({
      kind: 'forex',
      contract: { symbol: 'EUR', secType: 'CASH', exchange: 'IDEALPRO', currency: 'USD' },
    });
    expect(contractFor('BRK.B/USD').kind).toBe('stock');
    // A stock ticker that is not a currency stays a stock even with three letters.
    expect(contractFor('IBM/USD').kind).toBe('stock');
    expect(symbolOf({ symbol: 'EUR', currency: 'USD' })).toBe('EUR/USD');
  });

  it('rejects a malformed symbol naming it', () => {
    expect(() => contractFor('AAPL')).toThrow(ValidationError);
    expect(() => contractFor('aapl/usd')).toThrow(/"aapl\/usd" must look like AAPL\/USD/);
  });
});
