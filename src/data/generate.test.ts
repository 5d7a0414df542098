import { describe, expect, it } from 'vitest';
import { ValidationError } from '../core/index.js';
import { generateBars } from './generate.js';
import { SeededRandom } from './random.js';
import { validateBars } from './validate.js';

describe('generateBars', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const opts = { bars: 5000, seed: 11, regimes: true, volatilityClustering: true };
    const a = generateBars(opts);
    const b = generateBars(opts);
    expect(Array.from(a.close)).toEqual(Array.from(b.close));
    expect(Array.from(a.volume)).toEqual(Array.from(b.volume));
    const c = generateBars({ ...opts, seed: 12 });
    expect(c.close[100]).not.toBe(a.close[100]);
  });

  it('produces consistent OHLC, positive volume and regular times', () => {
    for (const opts of [{}, { regimes: true }, { volatilityClustering: true, volatility: 0.8 }]) {
      const g = generateBars({ bars: 20_000, seed: 3, timeframe: '5m', start: Date.UTC(2021, 0, 1), ...opts });
      const bad: number[] = [];
      for (let i = 0; i < g.length; i++) {
        const ok =
          g.high[i] >= Math.max(g.open[i], g.close[i]) &&
          g.low[i] <= Math.min(g.open[i], g.close[i]) &&
          g.low[i] > 0 &&
          g.volume[i] > 0 &&
          (i === 0 || g.open[i] === g.close[i - 1]);
        if (!ok) bad.push(i);
      }
      expect(bad).toEqual([]);
      expect(g.time[0]).toBe(Date.UTC(2021, 0, 1));
      expect(g.time[1] - g.time[0]).toBe(300_000);
      expect(validateBars(g, { timeframe: '5m' }).errors).toBe(0);
    }
  });

  it('matches the requested drift and volatility on average', () => {
    const g = generateBars({ bars: 100_000, seed: 1, timeframe: '1d', volatility: 0.3, drift: 0 });
    let s = 0;
    let s2 = 0;
    for (let i = 1; i < g.length; i++) {
      const r = Math.log(g.close[i] / g.close[i - 1]);
      s += r;
      s2 += r * r;
    }
    const n = g.length - 1;
    const sd = Math.sqrt(s2 / n - (s / n) ** 2) * Math.sqrt(365);
    expect(sd).toBeGreaterThan(0.29);
    expect(sd).toBeLessThan(0.31);
  });

  it('clusters volatility when asked (autocorrelated squared returns)', () => {
    const acf = (clustering: boolean): number => {
      const g = generateBars({ bars: 50_000, seed: 2, volatilityClustering: clustering });
      const sq: number[] = [];
      for (let i = 1; i < g.length; i++) sq.push(Math.log(g.close[i] / g.close[i - 1]) ** 2);
      const m = sq.reduce((a, b) => a + b, 0) / sq.length;
      let num = 0;
      let den = 0;
      for (let i = 0; i < sq.length; i++) {
        den += (sq[i] - m) ** 2;
        if (i > 0) num += (sq[i] - m) * (sq[i - 1] - m);
      }
      return num / den;
    };
    expect(acf(true)).toBeGreaterThan(0.05);
    expect(Math.abs(acf(false))).toBeLessThan(0.03);
  });

  it('validates its options', () => {
    expect(() => generateBars({ bars: -1, seed: 1 })).toThrow(ValidationError);
    expect(() => generateBars({ bars: 1.5, seed: 1 })).toThrow(/non-negative integer/);
  });

  it('SeededRandom gives uniform values in [0,1) and standard normals', () => {
    const r = new SeededRandom(42);
    let s = 0;
    let s2 = 0;
    let outside = 0;
    for (let i = 0; i < 20_000; i++) {
      const u = r.next();
      if (!(u >= 0 && u < 1)) outside++;
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(outside).toBe(0);
    expect(Math.abs(s / 20_000)).toBeLessThan(0.03);
    expect(Math.abs(s2 / 20_000 - 1)).toBeLessThan(0.05);
  });
});
