import { describe, expect, it } from 'vitest';
import { parseDecimalAt } from './decimal-parse.js';

// A seeded generator so a failure names a reproducible case.
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

function same(a: number, b: number): boolean {
  return Object.is(a, b);
}

describe('parseDecimalAt', () => {
  it('gives exactly what Number() gives, or NaN (fall back), on shortest round-trip doubles of prices', () => {
    const rnd = lcg(1);
    let decided = 0;
    for (let k = 0; k < 200_000; k++) {
      const v = rnd() * 10 ** Math.floor(rnd() * 12 - 4) * (rnd() < 0.1 ? -1 : 1);
      const s = String(v);
      const got = parseDecimalAt(`x${s},`, 1, s.length + 1);
      if (Number.isNaN(got)) continue;
      decided++;
      if (!same(got, Number(s))) throw new Error(`${s}: ${got} != ${Number(s)}`);
    }
    // The fast reader must decide nearly every ordinary cell, or it is no fast path.
    expect(decided).toBeGreaterThan(150_000);
  });

  it('matches Number() on random digit strings of 1-19 significant digits, near midpoints included', () => {
    const rnd = lcg(2);
    for (let k = 0; k < 200_000; k++) {
      const intLen = 1 + Math.floor(rnd() * 8);
      const fracLen = Math.floor(rnd() * 14);
      let s = String(1 + Math.floor(rnd() * 9));
      for (let d = 1; d < intLen; d++) s += String(Math.floor(rnd() * 10));
      if (fracLen > 0) {
        s += '.';
        for (let d = 0; d < fracLen; d++) s += String(Math.floor(rnd() * 10));
      }
      // Every third case is moved onto a double's exact midpoint-ish decimal expansion tail (…5000…).
      if (k % 3 === 0 && fracLen > 3) s = `${s.slice(0, -3)}500`;
      const got = parseDecimalAt(s, 0, s.length);
      if (!Number.isNaN(got) && !same(got, Number(s))) throw new Error(`${s}: ${got} != ${Number(s)}`);
    }
  });

  it('decides exact midpoints correctly or leaves them to Number()', () => {
    // 2^53 + 1 lies exactly between two doubles: ties go to even.
    for (const s of ['9007199254740993', '9007199254740995', '0.30000000000000004', '1.0000000000000002', '1e3']) {
      const got = parseDecimalAt(s, 0, s.length);
      expect(Number.isNaN(got) || same(got, Number(s))).toBe(true);
    }
  });

  it('refuses what is not a plain decimal, so the caller reports it', () => {
    for (const s of [
      '',
      '-',
      '.5',
      '5.',
      '+1',
      '1e5',
      ' 1',
      '1 ',
      '0x10',
      'abc',
      '1.2.3',
      '--1',
      '12345678901234567890',
    ]) {
      expect(parseDecimalAt(s, 0, s.length)).toBeNaN();
    }
  });

  it('reads zeros and signs as Number() does', () => {
    for (const s of ['0', '-0', '0.000', '-0.0', '007', '100', '-12.5', '0.000123', '123456789012345.6']) {
      expect(same(parseDecimalAt(s, 0, s.length), Number(s))).toBe(true);
    }
  });
});
