import { describe, expect, it } from 'vitest';
import { ValidationError } from './errors.js';
import { checkOrderSize, decimalsOf, defineInstrument, roundPrice, roundQuantity, roundToStep } from './instrument.js';

describe('decimalsOf', () => {
  it.each([
    [1, 0],
    [5, 0],
    [0.1, 1],
    [0.01, 2],
    [0.25, 2],
    [0.0001, 4],
    [1e-8, 8],
    [2.5e-7, 8],
    [0, 0],
    [-1, 0],
  ])('%d -> %d decimals', (step, want) => {
    expect(decimalsOf(step)).toBe(want);
  });
});

describe('roundToStep with binary-inexact steps', () => {
  it('rounds down and up without 0.1-style float surprises', () => {
    // 0.3 / 0.1 = 2.9999999999999996 in binary; a naive floor would give 0.2.
    expect(roundToStep(0.3, 0.1, 'down')).toBe(0.3);
    expect(roundToStep(0.7, 0.1, 'up')).toBe(0.7);
    expect(roundToStep(0.1 + 0.2, 0.1, 'down')).toBe(0.3);
    expect(roundToStep(0.35, 0.1, 'down')).toBe(0.3);
    expect(roundToStep(0.31, 0.1, 'up')).toBe(0.4);
    expect(roundToStep(0.000123, 1e-5, 'down')).toBe(0.00012);
    expect(roundToStep(1.23456789, 1e-8, 'down')).toBe(1.23456789);
    // 0.99 lot above a multiple: flooring must never round up (that would buy more than the cash allows).
    expect(roundToStep(297.5263824599, 1e-8, 'down')).toBe(297.52638245);
    expect(roundToStep(123456789.129, 0.01, 'down')).toBe(123456789.12);
    expect(roundToStep(297.5263824501, 1e-8, 'up')).toBe(297.52638246);
  });

  it('rounds to nearest with decimal half-up on .5 cases', () => {
    expect(roundToStep(0.15, 0.1)).toBe(0.2);
    expect(roundToStep(1.005, 0.01)).toBe(1.01);
    expect(roundToStep(2.675, 0.01)).toBe(2.68);
    expect(roundToStep(0.14, 0.1)).toBe(0.1);
    expect(roundToStep(12.34, 0.25)).toBe(12.25);
    expect(roundToStep(12.38, 0.25)).toBe(12.5);
  });

  it('returns clean decimals (no 0.30000000000000004)', () => {
    for (let i = 0; i < 1000; i++) {
      const v = roundToStep(i * 0.1, 0.1);
      expect(String(v).length).toBeLessThanOrEqual(String(Math.floor(i / 10)).length + 2);
    }
  });

  it('handles integer steps and negative values', () => {
    expect(roundToStep(1234, 5, 'down')).toBe(1230);
    expect(roundToStep(1234, 5, 'up')).toBe(1235);
    expect(roundToStep(-0.15, 0.1, 'down')).toBe(-0.2);
    expect(roundToStep(-0.15, 0.1, 'up')).toBe(-0.1);
  });
});

describe('instrument helpers', () => {
  const btc = defineInstrument({ symbol: 'BTC/USDT', tickSize: 0.1, lotSize: 0.001, minNotional: 10 });

  it('fills defaults and splits the symbol', () => {
    expect(btc).toMatchObject({ base: 'BTC', quote: 'USDT', kind: 'spot', minQty: 0.001, multiplier: 1 });
    expect(defineInstrument({ symbol: 'SPX' })).toMatchObject({ base: 'SPX', quote: 'USD', tickSize: 0.01 });
  });

  it('rounds prices to the tick and quantities down to the lot', () => {
    expect(roundPrice(btc, 50000.06)).toBe(50000.1);
    expect(roundPrice(btc, 50000.06, 'down')).toBe(50000);
    expect(roundQuantity(btc, 0.0129)).toBe(0.012);
    expect(roundQuantity(btc, 0.003)).toBe(0.003);
  });

  it('checks minimum quantity and notional', () => {
    expect(checkOrderSize(btc, 0.001, 20000)).toBeNull();
    expect(checkOrderSize(btc, 0, 20000)).toBe('quantity 0 must be positive');
    expect(checkOrderSize(btc, 0.0005, 20000)).toBe('quantity 0.0005 below minimum 0.001');
    expect(checkOrderSize(btc, 0.001, 5000)).toBe('notional 5 below minimum 10');
  });

  it.each([
    ['tickSize', { tickSize: 0 }],
    ['lotSize', { lotSize: -1 }],
    ['multiplier', { multiplier: Number.NaN }],
  ])('rejects a non-positive %s', (field, spec) => {
    expect(() => defineInstrument({ symbol: 'X/Y', ...spec })).toThrow(ValidationError);
    expect(() => defineInstrument({ symbol: 'X/Y', ...spec })).toThrow(`instrument X/Y: ${field} must be a positive`);
  });
});
