import { describe, expect, it } from 'vitest';
import { defineInstrument } from './instrument.js';
import { decimalText, exact, priceRounding, quantise, quantisePrice, quantiseQuantity } from './money.js';

const btc = defineInstrument({ symbol: 'BTC/USDT', tickSize: 0.01, lotSize: 1e-8 });
const lots = defineInstrument({ symbol: 'ETH/USDT', tickSize: 0.05, lotSize: 0.001 });

describe('exact: the decimal a value stands for', () => {
  it('reads a double as its 15-significant-digit decimal, removing binary noise', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(decimalText(exact(0.1 + 0.2))).toBe('0.3');
    expect(decimalText(exact(0.3 - 0.1))).toBe('0.2');
    expect(decimalText(exact(1e-8))).toBe('0.00000001');
    expect(decimalText(exact(123456.789))).toBe('123456.789');
  });

  it('reads a string exactly as written, digits a double could not hold included', () => {
    expect(decimalText(exact('0.30000000000000004'))).toBe('0.30000000000000004');
    expect(decimalText(exact('12345678901234567.12345678'))).toBe('12345678901234567.12345678');
  });

  it('sums exactly where doubles drift', () => {
    let d = 0;
    let x = exact(0);
    for (let i = 0; i < 10; i++) {
      d += 0.1;
      x = x.plus(exact(0.1));
    }
    expect(d).not.toBe(1);
    expect(decimalText(x)).toBe('1');
  });

  it('refuses what is not a finite decimal, naming the field', () => {
    expect(() => exact(Number.NaN, 'fill price')).toThrow(/^fill price: NaN is not a finite number$/);
    expect(() => exact(Number.POSITIVE_INFINITY, 'fee')).toThrow(/fee: Infinity/);
    expect(() => exact('1,5', 'quantity')).toThrow(/quantity: "1,5" is not a decimal number/);
  });
});

describe('quantisation at the boundary (docs/money.md)', () => {
  it('limit prices round to the passive side: a buy down, a sell up', () => {
    expect(decimalText(quantisePrice(btc, 100.019, 'buy', 'limit'))).toBe('100.01');
    expect(decimalText(quantisePrice(btc, 100.011, 'sell', 'limit'))).toBe('100.02');
    expect(decimalText(quantisePrice(lots, 2000.07, 'buy', 'limit'))).toBe('2000.05');
    expect(decimalText(quantisePrice(lots, 2000.01, 'sell', 'limit'))).toBe('2000.05');
  });

  it('a price already on the tick is unchanged whatever the side, float noise included', () => {
    for (const side of ['buy', 'sell'] as const) {
      for (const purpose of ['limit', 'stop', 'fill'] as const) {
        expect(decimalText(quantisePrice(btc, 0.1 + 0.2, side, purpose))).toBe('0.3');
        expect(decimalText(quantisePrice(btc, 100.00999999999999, side, purpose))).toBe('100.01');
      }
    }
  });

  it('stop triggers round away from the market: a buy up, a sell down', () => {
    expect(priceRounding('buy', 'stop')).toBe('ceil');
    expect(decimalText(quantisePrice(btc, 99.991, 'buy', 'stop'))).toBe('100');
    expect(decimalText(quantisePrice(btc, 99.999, 'sell', 'stop'))).toBe('99.99');
  });

  it('a fill price with more decimals than the tick goes to the nearest tick, ties to even', () => {
    expect(decimalText(quantisePrice(btc, '100.014', 'buy', 'fill'))).toBe('100.01');
    expect(decimalText(quantisePrice(btc, '100.016', 'sell', 'fill'))).toBe('100.02');
    expect(decimalText(quantisePrice(btc, '100.015', 'buy', 'fill'))).toBe('100.02');
    expect(decimalText(quantisePrice(btc, '100.025', 'buy', 'fill'))).toBe('100.02');
  });

  it('quantities round toward zero onto the lot, never up', () => {
    expect(decimalText(quantiseQuantity(btc, 1e-8))).toBe('0.00000001');
    expect(decimalText(quantiseQuantity(btc, 0.9e-8))).toBe('0');
    expect(decimalText(quantiseQuantity(btc, 0.1 + 0.2))).toBe('0.3');
    expect(decimalText(quantiseQuantity(btc, 0.3 - 0.1))).toBe('0.2');
    expect(decimalText(quantiseQuantity(btc, '0.123456789'))).toBe('0.12345678');
    expect(decimalText(quantiseQuantity(lots, 1.9999))).toBe('1.999');
    expect(decimalText(quantiseQuantity(lots, '-1.9999'))).toBe('-1.999');
    // 297.5263824599 is 0.99 lot above a multiple of 1e-8: it must floor, a float nudge must not carry it up.
    expect(decimalText(quantiseQuantity(btc, 297.5263824599))).toBe('297.52638245');
  });

  it('quantises onto steps that are not powers of ten exactly', () => {
    expect(decimalText(quantise(exact(0.9), exact(0.3), 'floor'))).toBe('0.9');
    expect(decimalText(quantise(exact(1.0), exact(0.25), 'ceil'))).toBe('1');
    expect(decimalText(quantise(exact(1.01), exact(0.25), 'ceil'))).toBe('1.25');
  });
});
