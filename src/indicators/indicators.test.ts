import { describe, expect, it } from 'vitest';
import { ValidationError } from '../core/errors.js';
import {
  Adx,
  Atr,
  adx,
  atr,
  BollingerBands,
  bbands,
  Cci,
  cci,
  Donchian,
  donchian,
  Ema,
  ema,
  Macd,
  macd,
  Obv,
  obv,
  Roc,
  Rsi,
  roc,
  rsi,
  Sma,
  StdDev,
  Stochastic,
  sma,
  stddev,
  stochastic,
  Vwap,
  vwap,
  Wma,
  wma,
} from './index.js';
import { RollingExtreme } from './rolling-extreme.js';
import { leadingNaN, loadSampleBars } from './testdata/sample.js';

const f64 = (xs: number[]) => new Float64Array(xs);
const arr = (x: Float64Array) => Array.from(x);

describe('hand-computed small cases', () => {
  it('SMA(3) of 1..5', () => {
    expect(arr(sma(f64([1, 2, 3, 4, 5]), 3))).toEqual([Number.NaN, Number.NaN, 2, 3, 4]);
  });

  it('EMA(3) is seeded with the SMA of the first 3 values, then alpha = 0.5', () => {
    // seed (2+4+6)/3 = 4; 4 + 0.5*(8-4) = 6; 6 + 0.5*(12-6) = 9
    expect(arr(ema(f64([2, 4, 6, 8, 12]), 3))).toEqual([Number.NaN, Number.NaN, 4, 6, 9]);
  });

  it('WMA(3) weights 1,2,3 over 6', () => {
    const out = wma(f64([1, 2, 3, 4]), 3);
    expect(out[1]).toBeNaN();
    expect(out[2]).toBeCloseTo((1 + 4 + 9) / 6, 14);
    expect(out[3]).toBeCloseTo((2 + 6 + 12) / 6, 14);
  });

  it('RSI(2) with Wilder smoothing; 0 when flat, 100 when only rising', () => {
    // changes +1, -1, +2, 0 -> first avg gain 0.5, loss 0.5 -> 50; then gain (0.5+2)/2=1.25, loss 0.25 -> 83.33..
    const out = rsi(f64([1, 2, 1, 3, 3]), 2);
    expect(out[1]).toBeNaN();
    expect(out[2]).toBe(50);
    expect(out[3]).toBeCloseTo((100 * 1.25) / 1.5, 12);
    expect(out[4]).toBeCloseTo((100 * 0.625) / 0.75, 12);
    expect(rsi(f64([5, 5, 5, 5]), 2)[3]).toBe(0);
    expect(rsi(f64([1, 2, 3, 4]), 2)[3]).toBe(100);
  });

  it('ROC(2) in percent', () => {
    const out = roc(f64([100, 110, 121, 110]), 2);
    expect(out[1]).toBeNaN();
    expect(out[2]).toBeCloseTo(21, 12);
    expect(out[3]).toBeCloseTo(0, 12);
  });

  it('StdDev(3) is the population standard deviation', () => {
    const out = stddev(f64([2, 4, 6, 8, 8]), 3);
    expect(out[2]).toBeCloseTo(Math.sqrt(8 / 3), 14);
    expect(out[3]).toBeCloseTo(Math.sqrt(8 / 3), 14);
    // window 6, 8, 8: mean 22/3, deviations -4/3, 2/3, 2/3 -> variance (16+4+4)/27
    expect(out[4]).toBeCloseTo(Math.sqrt(24 / 27), 14);
  });

  it('MACD(2,3,2) on a straight line', () => {
    // EMA2 = x - 0.5 and EMA3 = x - 1 once warm, so macd = 0.5, signal = 0.5, histogram = 0
    const m = macd(f64([1, 2, 3, 4, 5, 6]), 2, 3, 2);
    expect(leadingNaN(m.macd)).toBe(2);
    expect(leadingNaN(m.signal)).toBe(3);
    expect(leadingNaN(m.histogram)).toBe(3);
    expect(arr(m.macd.subarray(2))).toEqual([0.5, 0.5, 0.5, 0.5]);
    expect(arr(m.signal.subarray(3))).toEqual([0.5, 0.5, 0.5]);
    expect(arr(m.histogram.subarray(3))).toEqual([0, 0, 0]);
  });

  it('Bollinger(3,2) = SMA ± 2 population sd', () => {
    const b = bbands(f64([2, 4, 6]), 3, 2);
    expect(b.middle[2]).toBe(4);
    expect(b.upper[2]).toBeCloseTo(4 + 2 * Math.sqrt(8 / 3), 14);
    expect(b.lower[2]).toBeCloseTo(4 - 2 * Math.sqrt(8 / 3), 14);
  });

  const H = f64([10, 11, 12, 11, 12]);
  const L = f64([8, 9, 9, 7, 8]);
  const C = f64([9, 10, 11, 8, 11]);

  it('ATR(2): true ranges 2, 3, 4, 4 from the second bar, Wilder smoothing', () => {
    const out = atr(H, L, C, 2);
    expect(leadingNaN(out)).toBe(2);
    expect(out[2]).toBe(2.5);
    expect(out[3]).toBe(3.25);
    expect(out[4]).toBe(3.625);
  });

  it('ADX(2): +DM 1,1,0,1  -DM 0,0,2,0  TR 2,3,4,4', () => {
    const r = adx(H, L, C, 2);
    expect(leadingNaN(r.plusDi)).toBe(2);
    expect(leadingNaN(r.adx)).toBe(3);
    // bar 2: sm(+DM)=1, sm(-DM)=0, sm(TR)=2.5 -> +DI 40, -DI 0, DX 100
    expect(r.plusDi[2]).toBe(40);
    expect(r.minusDi[2]).toBe(0);
    // bar 3: sm(+DM)=0.5, sm(-DM)=1, sm(TR)=3.25 -> DX = 100*0.5/1.5; ADX = (100 + 33.33)/2
    expect(r.plusDi[3]).toBeCloseTo(50 / 3.25, 12);
    expect(r.minusDi[3]).toBeCloseTo(100 / 3.25, 12);
    expect(r.adx[3]).toBeCloseTo((100 + 100 / 3) / 2, 12);
    // bar 4: sm(+DM)=0.75, sm(-DM)=0.5, sm(TR)=3.625 -> DX 20; ADX = (66.67 + 20)/2
    expect(r.plusDi[4]).toBeCloseTo(75 / 3.625, 12);
    expect(r.minusDi[4]).toBeCloseTo(50 / 3.625, 12);
    expect(r.adx[4]).toBeCloseTo(((100 + 100 / 3) / 2 + 20) / 2, 12);
  });

  it('Stochastic(3,2,2): fast %K 75, 75, 20 -> %K 75, 47.5 -> %D 61.25', () => {
    const s = stochastic(f64([10, 11, 12, 13, 12]), f64([8, 9, 10, 9, 8]), f64([9, 10, 11, 12, 9]), 3, 2, 2);
    expect(leadingNaN(s.k)).toBe(3);
    expect(leadingNaN(s.d)).toBe(4);
    expect(s.k[3]).toBe(75);
    expect(s.k[4]).toBe(47.5);
    expect(s.d[4]).toBe(61.25);
    // Zero range gives 0 (TA-Lib), not NaN.
    expect(stochastic(f64([5, 5]), f64([5, 5]), f64([5, 5]), 2, 1, 1).k[1]).toBe(0);
  });

  it('CCI(3): typical prices 3, 6, 9 -> +100, then 3 -> -100', () => {
    const out = cci(f64([4, 7, 10, 4]), f64([2, 5, 8, 2]), f64([3, 6, 9, 3]), 3);
    expect(leadingNaN(out)).toBe(2);
    expect(out[2]).toBeCloseTo(100, 12);
    expect(out[3]).toBeCloseTo(-100, 12);
  });

  it('Donchian(2)', () => {
    const d = donchian(f64([5, 7, 6]), f64([1, 3, 2]), 2);
    expect(d.upper[0]).toBeNaN();
    expect([d.upper[1], d.lower[1], d.middle[1]]).toEqual([7, 1, 4]);
    expect([d.upper[2], d.lower[2], d.middle[2]]).toEqual([7, 2, 4.5]);
  });

  it('OBV starts at the first volume and ignores unchanged closes', () => {
    expect(arr(obv(f64([10, 11, 11, 9]), f64([100, 200, 300, 400])))).toEqual([100, 300, 300, -100]);
  });

  it('VWAP accumulates typical price * volume and resets on a new period', () => {
    const t = f64([0, 500, 1000, 1500]);
    const h = f64([11, 21, 31, 11]);
    const l = f64([9, 19, 29, 9]);
    const c = f64([10, 20, 30, 10]);
    const v = f64([1, 3, 2, 2]);
    expect(arr(vwap(t, h, l, c, v))).toEqual([10, 17.5, (10 + 60 + 60) / 6, (10 + 60 + 60 + 20) / 8]);
    expect(arr(vwap(t, h, l, c, v, 1000))).toEqual([10, 17.5, 30, 20]);
    expect(vwap(f64([0]), f64([1]), f64([1]), f64([1]), f64([0]))[0]).toBeNaN();
  });
});

describe('warm-up lengths on the sample data', () => {
  const b = loadSampleBars();
  it.each([
    ['sma(10)', () => sma(b.close, 10), 9],
    ['ema(12)', () => ema(b.close, 12), 11],
    ['wma(10)', () => wma(b.close, 10), 9],
    ['rsi(14)', () => rsi(b.close, 14), 14],
    ['roc(10)', () => roc(b.close, 10), 10],
    ['stddev(20)', () => stddev(b.close, 20), 19],
    ['macd line', () => macd(b.close).macd, 25],
    ['macd signal', () => macd(b.close).signal, 33],
    ['macd histogram', () => macd(b.close).histogram, 33],
    ['bbands upper', () => bbands(b.close).upper, 19],
    ['bbands lower', () => bbands(b.close).lower, 19],
    ['atr(14)', () => atr(b.high, b.low, b.close), 14],
    ['stoch k', () => stochastic(b.high, b.low, b.close).k, 15],
    ['stoch d', () => stochastic(b.high, b.low, b.close).d, 17],
    ['adx(14)', () => adx(b.high, b.low, b.close).adx, 27],
    ['+di(14)', () => adx(b.high, b.low, b.close).plusDi, 14],
    ['-di(14)', () => adx(b.high, b.low, b.close).minusDi, 14],
    ['cci(20)', () => cci(b.high, b.low, b.close), 19],
    ['donchian upper', () => donchian(b.high, b.low).upper, 19],
    ['obv', () => obv(b.close, b.volume), 0],
    ['vwap', () => vwap(b.time, b.high, b.low, b.close, b.volume), 0],
  ] as const)('%s has %i... leading NaN', (_name, run, want) => {
    const out = run();
    expect(leadingNaN(out)).toBe(want);
    // No NaN after the warm-up on clean data.
    expect(out.subarray(want).some(Number.isNaN)).toBe(false);
  });
});

describe('streaming equals batch exactly, and reset() starts over', () => {
  const b = loadSampleBars();
  const n = b.length;

  /** Feeds every bar, records the outputs, resets, and checks a second pass gives bit-identical values. */
  function run<T extends { reset(): void; readonly ready: boolean }>(
    ind: T,
    step: (ind: T, i: number) => void,
    outputs: ((ind: T) => number)[],
  ): Float64Array[] {
    const pass = () => {
      const cols = outputs.map(() => new Float64Array(n));
      for (let i = 0; i < n; i++) {
        step(ind, i);
        outputs.forEach((o, j) => {
          cols[j][i] = o(ind);
        });
      }
      return cols;
    };
    const first = pass();
    expect(ind.ready).toBe(true);
    ind.reset();
    expect(ind.ready).toBe(false);
    const second = pass();
    first.forEach((c, j) => {
      expect(second[j]).toEqual(c);
    });
    return first;
  }

  it('single-input indicators', () => {
    const x = b.close;
    expect(run(new Sma(10), (s, i) => s.update(x[i]), [(s) => s.value])[0]).toEqual(sma(x, 10));
    expect(run(new Ema(12), (s, i) => s.update(x[i]), [(s) => s.value])[0]).toEqual(ema(x, 12));
    expect(run(new Wma(10), (s, i) => s.update(x[i]), [(s) => s.value])[0]).toEqual(wma(x, 10));
    expect(run(new Rsi(), (s, i) => s.update(x[i]), [(s) => s.value])[0]).toEqual(rsi(x, 14));
    expect(run(new Roc(10), (s, i) => s.update(x[i]), [(s) => s.value])[0]).toEqual(roc(x, 10));
    expect(run(new StdDev(20), (s, i) => s.update(x[i]), [(s) => s.value])[0]).toEqual(stddev(x, 20));
    const m = macd(x, 12, 26, 9);
    expect(run(new Macd(), (s, i) => s.update(x[i]), [(s) => s.macd, (s) => s.signal, (s) => s.histogram])).toEqual([
      m.macd,
      m.signal,
      m.histogram,
    ]);
    const bb = bbands(x, 20, 2);
    expect(
      run(new BollingerBands(), (s, i) => s.update(x[i]), [(s) => s.upper, (s) => s.middle, (s) => s.lower]),
    ).toEqual([bb.upper, bb.middle, bb.lower]);
  });

  it('bar indicators', () => {
    const { high: h, low: l, close: c, volume: v, time: t } = b;
    expect(run(new Atr(), (s, i) => s.update(h[i], l[i], c[i]), [(s) => s.value])[0]).toEqual(atr(h, l, c, 14));
    expect(run(new Cci(), (s, i) => s.update(h[i], l[i], c[i]), [(s) => s.value])[0]).toEqual(cci(h, l, c, 20));
    const st = stochastic(h, l, c, 14, 3, 3);
    expect(run(new Stochastic(), (s, i) => s.update(h[i], l[i], c[i]), [(s) => s.k, (s) => s.d])).toEqual([st.k, st.d]);
    const a = adx(h, l, c, 14);
    expect(
      run(new Adx(), (s, i) => s.update(h[i], l[i], c[i]), [(s) => s.adx, (s) => s.plusDi, (s) => s.minusDi]),
    ).toEqual([a.adx, a.plusDi, a.minusDi]);
    const d = donchian(h, l, 20);
    expect(
      run(new Donchian(), (s, i) => s.update(h[i], l[i]), [(s) => s.upper, (s) => s.lower, (s) => s.middle]),
    ).toEqual([d.upper, d.lower, d.middle]);
    expect(run(new Obv(), (s, i) => s.update(c[i], v[i]), [(s) => s.value])[0]).toEqual(obv(c, v));
    const day = 86_400_000 * 5;
    expect(run(new Vwap(day), (s, i) => s.update(t[i], h[i], l[i], c[i], v[i]), [(s) => s.value])[0]).toEqual(
      vwap(t, h, l, c, v, day),
    );
  });

  it('update() returns the primary value and `value` holds it', () => {
    const s = new Stochastic(3, 2, 2);
    const k = s.update(10, 8, 9);
    expect(k).toBeNaN();
    expect(s.ready).toBe(false);
    const m = new Macd(2, 3, 2);
    for (const x of [1, 2, 3]) m.update(x);
    expect(m.value).toBe(0.5);
    expect(m.ready).toBe(false); // signal still warming up
    m.update(4);
    expect(m.ready).toBe(true);
  });
});

/** Independent naive implementations (O(n*period), straight from the formulas) for a cross-check. */
const naive = {
  window(x: Float64Array, i: number, n: number): number[] {
    return Array.from(x.subarray(i - n + 1, i + 1));
  },
  sma(x: Float64Array, n: number): number[] {
    return Array.from(x, (_, i) => (i < n - 1 ? Number.NaN : naive.window(x, i, n).reduce((a, b) => a + b, 0) / n));
  },
  sd(x: Float64Array, n: number): number[] {
    return Array.from(x, (_, i) => {
      if (i < n - 1) return Number.NaN;
      const w = naive.window(x, i, n);
      const m = w.reduce((a, b) => a + b, 0) / n;
      return Math.sqrt(w.reduce((a, b) => a + (b - m) ** 2, 0) / n);
    });
  },
  wma(x: Float64Array, n: number): number[] {
    return Array.from(x, (_, i) =>
      i < n - 1 ? Number.NaN : naive.window(x, i, n).reduce((a, b, j) => a + b * (j + 1), 0) / ((n * (n + 1)) / 2),
    );
  },
  cci(h: Float64Array, l: Float64Array, c: Float64Array, n: number): number[] {
    const tp = Float64Array.from(h, (_, i) => (h[i] + l[i] + c[i]) / 3);
    return Array.from(tp, (_, i) => {
      if (i < n - 1) return Number.NaN;
      const w = naive.window(tp, i, n);
      const m = w.reduce((a, b) => a + b, 0) / n;
      const md = w.reduce((a, b) => a + Math.abs(b - m), 0) / n;
      return (tp[i] - m) / (0.015 * md);
    });
  },
  stochK(h: Float64Array, l: Float64Array, c: Float64Array, n: number): Float64Array {
    return Float64Array.from(c, (_, i) => {
      if (i < n - 1) return Number.NaN;
      const hh = Math.max(...naive.window(h, i, n));
      const ll = Math.min(...naive.window(l, i, n));
      return (100 * (c[i] - ll)) / (hh - ll);
    });
  },
};

function expectClose(actual: Float64Array, expected: ArrayLike<number>, tol = 1e-9): void {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    if (Number.isNaN(e)) {
      expect(actual[i], `index ${i}`).toBeNaN();
      continue;
    }
    const err = e === 0 ? Math.abs(actual[i]) : Math.abs(actual[i] - e) / Math.abs(e);
    if (err > tol) expect.fail(`index ${i}: got ${actual[i]}, naive ${e}`);
  }
}

describe('cross-check against naive re-implementations on the S&P 500 sample (1e-9 relative)', () => {
  const b = loadSampleBars();
  it('SMA, StdDev, Bollinger, WMA', () => {
    for (const n of [1, 2, 10, 50, 200]) {
      expectClose(sma(b.close, n), naive.sma(b.close, n));
      expectClose(stddev(b.close, n), naive.sd(b.close, n), n === 1 ? 0 : 1e-9);
      expectClose(wma(b.close, n), naive.wma(b.close, n));
      const bb = bbands(b.close, n, 2.5);
      const sd = naive.sd(b.close, n);
      expectClose(
        bb.upper,
        naive.sma(b.close, n).map((m, i) => m + 2.5 * sd[i]),
      );
    }
  });
  it('CCI', () => {
    expectClose(cci(b.high, b.low, b.close, 20), naive.cci(b.high, b.low, b.close, 20));
  });
  it('Stochastic %K/%D are SMAs of the naive fast %K', () => {
    const fastK = naive.stochK(b.high, b.low, b.close, 14);
    const k = naive.sma(fastK.subarray(13), 3);
    const s = stochastic(b.high, b.low, b.close, 14, 3, 3);
    expectClose(s.k.subarray(13), k);
    expectClose(s.d.subarray(15), naive.sma(Float64Array.from(k.slice(2)), 3));
  });
  it('Donchian matches Math.max/Math.min over the window', () => {
    const d = donchian(b.high, b.low, 55);
    for (let i = 54; i < b.length; i += 7) {
      expect(d.upper[i]).toBe(Math.max(...naive.window(b.high, i, 55)));
      expect(d.lower[i]).toBe(Math.min(...naive.window(b.low, i, 55)));
    }
  });
  it('ROC and OBV', () => {
    expectClose(
      roc(b.close, 10),
      Array.from(b.close, (c, i) => (i < 10 ? Number.NaN : (c / b.close[i - 10] - 1) * 100)),
    );
    let acc = 0;
    const o = Array.from(b.close, (c, i) => {
      acc += i === 0 ? b.volume[0] : Math.sign(c - b.close[i - 1]) * b.volume[i];
      return acc;
    });
    expectClose(obv(b.close, b.volume), o);
  });
});

describe('long runs do not drift', () => {
  it('SMA/StdDev/WMA stay within 1e-9 of a fresh window sum after 300k values around 1e6', () => {
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const x = Float64Array.from({ length: 300_000 }, () => 1e6 + rnd() * 10);
    const n = 50;
    const s = sma(x, n);
    const d = stddev(x, n);
    const w = wma(x, n);
    for (const i of [n - 1, 1000, 123_457, x.length - 1]) {
      const win = x.subarray(i - n + 1, i + 1);
      expect(Math.abs(s[i] - naive.sma(win, n)[n - 1]) / s[i]).toBeLessThan(1e-12);
      expect(Math.abs(d[i] - naive.sd(win, n)[n - 1]) / d[i]).toBeLessThan(1e-9);
      expect(Math.abs(w[i] - naive.wma(win, n)[n - 1]) / w[i]).toBeLessThan(1e-12);
    }
  });

  it('RollingExtreme equals the window max/min for many periods', () => {
    let seed = 7;
    const x: number[] = [];
    for (let i = 0; i < 2000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      x.push(seed % 97); // many ties on purpose
    }
    for (const p of [1, 2, 3, 10, 64]) {
      const hi = new RollingExtreme(p, true);
      const lo = new RollingExtreme(p, false);
      x.forEach((v, i) => {
        const w = x.slice(Math.max(0, i - p + 1), i + 1);
        expect(hi.push(v)).toBe(Math.max(...w));
        expect(lo.push(v)).toBe(Math.min(...w));
      });
    }
  });
});

describe('bad parameters', () => {
  it.each([
    () => new Sma(0),
    () => new Ema(2.5),
    () => new Rsi(-1),
    () => new Macd(26, 12, 9),
    () => new Macd(12, 12, 9),
    () => new BollingerBands(20, 0),
    () => new BollingerBands(20, Number.NaN),
    () => new Stochastic(14, 0, 3),
    () => new Vwap(0),
    () => atr(f64([1, 2]), f64([1]), f64([1, 2]), 14),
  ])('throws ValidationError (%#)', (make) => {
    expect(make).toThrow(ValidationError);
  });
  it('names the parameter', () => {
    expect(() => new Sma(0)).toThrow(/sma period must be an integer >= 1, got 0/);
  });
});
