import { describe, expect, it } from 'vitest';
import { defineInstrument } from '../../core/instrument.js';
import { decimalText } from '../../core/money.js';
import type { VenueFill } from '../../core/venue.js';
import { exactFillOf } from './exact-fill.js';

const inst = defineInstrument({ symbol: 'BTC/USDT', tickSize: 0.01, lotSize: 1e-8 });
const fill = (over: Partial<VenueFill>): VenueFill => ({
  venueTradeId: 't1',
  venueOrderId: 'o1',
  symbol: 'BTC/USDT',
  side: 'buy',
  price: 100,
  quantity: 1,
  fee: 0,
  feeCurrency: 'USDT',
  liquidity: 'taker',
  time: 0,
  ...over,
});
const texts = (x: ReturnType<typeof exactFillOf>) => ({
  price: decimalText(x.price),
  executed: decimalText(x.executed),
  booked: decimalText(x.booked),
  fee: decimalText(x.fee),
});

describe('exactFillOf: a venue fill read exactly at the boundary', () => {
  it('a price carrying float noise lands on its tick; a price with more decimals than the tick goes to the nearest', () => {
    expect(texts(exactFillOf(inst, 'buy', fill({ price: 0.1 + 0.2, quantity: 1e-8 }), false))).toEqual({
      price: '0.3',
      executed: '0.00000001',
      booked: '0.00000001',
      fee: '0',
    });
    expect(decimalText(exactFillOf(inst, 'sell', fill({ price: 30000.126 }), false).price)).toBe('30000.13');
    expect(decimalText(exactFillOf(inst, 'sell', fill({ price: 30000.124 }), false).price)).toBe('30000.12');
  });

  it('a quantity below one lot books nothing; one with sub-lot digits rounds toward zero', () => {
    expect(decimalText(exactFillOf(inst, 'buy', fill({ quantity: 0.5e-8 }), false).executed)).toBe('0');
    expect(decimalText(exactFillOf(inst, 'buy', fill({ quantity: 0.123456789 }), false).executed)).toBe('0.12345678');
  });

  it('a spot buy paying its fee in the base asset books whole lots and counts the dust with the fee, exactly', () => {
    // 0.001 BTC bought at 30000.01 with a fee of 0.000001005 BTC: 0.000998995 credited, 0.00099899 booked; the
    // 0.00000101 BTC not booked (fee and dust) at 30000.01 is 0.0303000101 quote.
    const x = exactFillOf(
      inst,
      'buy',
      fill({ price: 30000.01, quantity: 0.001, fee: 0.000001005, feeCurrency: 'BTC' }),
      true,
    );
    expect(texts(x)).toEqual({ price: '30000.01', executed: '0.001', booked: '0.00099899', fee: '0.0303000101' });
  });

  it('a sell paying its fee in the base asset books what it executed and values the fee at the fill price', () => {
    const x = exactFillOf(
      inst,
      'sell',
      fill({ side: 'sell', price: 0.1 + 0.2, quantity: 10, fee: 0.01, feeCurrency: 'BTC' }),
      true,
    );
    expect(texts(x)).toEqual({ price: '0.3', executed: '10', booked: '10', fee: '0.003' });
  });
});
