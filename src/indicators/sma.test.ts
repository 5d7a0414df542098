import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Sma } from './sma.js';

// Prices as a backtest sees them: doubles of up to 17 significant digits (the sums' rounding is what must match).
const prices = fc.array(fc.double({ min: 0.0001, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 300 });

function streamed(period: number, x: Float64Array): number[] {
  const s = new Sma(period);
  return Array.from(x, (v) => s.update(v));
}

// The crossings the streaming path finds: each row's d = a.update(x) - b.update(x) against the one before it.
function streamedCrossings(pa: number, pb: number, x: Float64Array): { rows: [number, boolean][]; last: number } {
  const a = streamed(pa, x);
  const b = streamed(pb, x);
  const rows: [number, boolean][] = [];
  let p = Number.NaN;
  for (let i = 0; i < x.length; i++) {
    const d = a[i] - b[i];
    if (d > 0 && p <= 0) rows.push([i, true]);
    else if (d < 0 && p >= 0) rows.push([i, false]);
    p = d;
  }
  return { rows, last: p };
}

function crossings(pa: number, pb: number, x: Float64Array): { rows: [number, boolean][]; last: number } {
  const rows: [number, boolean][] = [];
  const last = Sma.differenceCrossings(new Sma(pa), new Sma(pb), x, x.length, {
    push: (row, up) => rows.push([row, up]),
  });
  return { rows, last };
}

describe('Sma.differenceCrossings', () => {
  it('finds the rows and the last difference the streaming updates give, bit for bit', () => {
    fc.assert(
      fc.property(prices, fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 60 }), (values, pa, pb) => {
        const x = Float64Array.from(values);
        const got = crossings(pa, pb, x);
        const want = streamedCrossings(pa, pb, x);
        expect(got.rows).toEqual(want.rows);
        expect(Object.is(got.last, want.last)).toBe(true);
      }),
    );
  });

  it('treats an exact zero difference as the streaming comparison does (ties of small integer prices)', () => {
    // Few distinct values make d exactly 0 often: a cross needs a strict sign on the new side only.
    const ticks = fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 200 });
    fc.assert(
      fc.property(ticks, fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 12 }), (values, pa, pb) => {
        const x = Float64Array.from(values);
        expect(crossings(pa, pb, x)).toEqual(streamedCrossings(pa, pb, x));
      }),
    );
  });

  it('reports nothing and returns NaN while either window is still filling', () => {
    const x = Float64Array.from([1, 2, 3, 4]);
    const got = crossings(2, 5, x);
    expect(got.rows).toEqual([]);
    expect(got.last).toBeNaN();
  });

  it('leaves both averages as the streaming updates would: pre-filled windows in, the same values out after', () => {
    // Values streamed before the call (the windows hold values not in the column) and after it (the ring buffers,
    // their positions and the sums must be what `update` leaves, though the pass reads the column instead).
    fc.assert(
      fc.property(
        prices,
        prices,
        prices,
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 1, max: 60 }),
        (pre, col, post, pa, pb) => {
          const x = Float64Array.from(col);
          const a = new Sma(pa);
          const b = new Sma(pb);
          const ra = new Sma(pa);
          const rb = new Sma(pb);
          let p = Number.NaN;
          for (const v of pre) {
            a.update(v);
            b.update(v);
            p = ra.update(v) - rb.update(v);
          }
          const rows: [number, boolean][] = [];
          const last = Sma.differenceCrossings(a, b, x, x.length, { push: (row, up) => rows.push([row, up]) });
          const want: [number, boolean][] = [];
          // The pass starts from NaN, whatever came before: only its own rows are compared.
          p = Number.NaN;
          for (let j = 0; j < x.length; j++) {
            const d = ra.update(x[j]) - rb.update(x[j]);
            if (d > 0 && p <= 0) want.push([j, true]);
            else if (d < 0 && p >= 0) want.push([j, false]);
            p = d;
          }
          expect(rows).toEqual(want);
          expect(Object.is(last, p)).toBe(true);
          for (const v of post) {
            expect(Object.is(a.update(v), ra.update(v))).toBe(true);
            expect(Object.is(b.update(v), rb.update(v))).toBe(true);
          }
        },
      ),
    );
  });
});
