import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Sma } from './sma.js';

// Prices as a backtest sees them: doubles of up to 17 significant digits (the sums' rounding is what must match).
const prices = fc.array(fc.double({ min: 0.0001, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 });

function streamed(period: number, x: Float64Array): number[] {
  const s = new Sma(period);
  return Array.from(x, (v) => s.update(v));
}

describe('Sma.updateDifference', () => {
  it('updateDifference gives a.update(x) - b.update(x) bit for bit', () => {
    fc.assert(
      fc.property(prices, fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 60 }), (values, pa, pb) => {
        const x = Float64Array.from(values);
        const a = new Sma(pa);
        const b = new Sma(pb);
        const out = new Float64Array(x.length);
        const half = x.length >> 1;
        Sma.updateDifference(a, b, x, 0, half, out);
        Sma.updateDifference(a, b, x, half, x.length, out.subarray(half));
        const sa = streamed(pa, x);
        const sb = streamed(pb, x);
        expect(Array.from(out)).toEqual(sa.map((v, i) => v - sb[i]));
      }),
    );
  });
});
