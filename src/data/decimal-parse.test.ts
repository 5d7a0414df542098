import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDecimalAt, parseDecimalBytes, scanDecimalBytes, scanEnd } from './decimal-parse.js';

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

describe('the byte readers (what the CSV import runs on a file)', () => {
  const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

  it('give exactly Number() on 16- and 17-digit shortest doubles, or NaN, and decide nearly all of them', () => {
    const rnd = lcg(3);
    let decided = 0;
    let long = 0;
    for (let k = 0; k < 200_000; k++) {
      // Full-precision doubles (String() gives up to 17 significant digits), prices to volumes.
      const v = (rnd() + rnd() * 2 ** -30) * 10 ** Math.floor(rnd() * 10 - 3);
      const s = String(v);
      if (s.includes('e')) continue;
      if (s.replace(/^0\.0*|\./g, '').length >= 16) long++;
      const b = bytes(`${s},`);
      const scanned = scanDecimalBytes(b, 0, b.length);
      if (Number.isNaN(scanned)) continue;
      decided++;
      if (!same(scanned, Number(s))) throw new Error(`${s}: ${scanned} != ${Number(s)}`);
      if (scanEnd[0] !== s.length) throw new Error(`${s}: stopped at ${scanEnd[0]}`);
      if (!same(parseDecimalBytes(b, 0, s.length), scanned)) throw new Error(`${s}: parseDecimalBytes differs`);
    }
    expect(long).toBeGreaterThan(100_000);
    expect(decided).toBeGreaterThan(190_000);
  });

  it('agree with Number() on edge cases: 2^53 neighbours, 19 digits, 22 fraction digits, zeros, signs', () => {
    const cases = [
      '9007199254740991',
      '9007199254740992',
      '9007199254740993',
      '9007199254740992.5',
      '1234567890123456789',
      '0.0000000000000000000001',
      '1.7976931348623157',
      '4.9406564584124654',
      '2.2250738585072014',
      '0.1',
      '0.30000000000000004',
      '-0',
      '-0.000',
      '000123.4500',
      '99999999999999999',
      '0.99999999999999994',
      '0.99999999999999995',
      '123456789012345.67',
      '5e-324',
      '1.',
      '.5',
      '-',
      '',
    ];
    for (const s of cases) {
      const b = bytes(s);
      const got = parseDecimalBytes(b, 0, b.length);
      if (!Number.isNaN(got)) expect(same(got, Number(s))).toBe(true);
      const at = parseDecimalAt(s, 0, s.length);
      expect(same(at, got)).toBe(true);
    }
    // What Number() refuses or reads otherwise is never decided here.
    for (const s of ['1.', '.5', '-', '', '5e-324', '1e3', '+1', ' 1'])
      expect(parseDecimalBytes(bytes(s), 0, s.length)).toBeNaN();
  });
});

describe('the decimal reader against Number() (property)', () => {
  // Random decimal strings: optional '-', 1-22 integer digits (leading zeros too), an optional fraction of 1-25
  // digits. The reader must give Number()'s double exactly, or NaN to hand the cell to Number().
  const digits = (min: number, max: number) =>
    fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(''));
  const decimal = fc
    .tuple(fc.boolean(), digits(1, 22), fc.option(digits(1, 25), { nil: undefined }))
    .map(([neg, int, frac]) => `${neg ? '-' : ''}${int}${frac === undefined ? '' : `.${frac}`}`);

  it('parseDecimalBytes equals Number() or declines', () => {
    fc.assert(
      fc.property(decimal, (s) => {
        const got = parseDecimalBytes(Buffer.from(s, 'latin1'), 0, s.length);
        return Number.isNaN(got) || Object.is(got, Number(s));
      }),
      { numRuns: 20_000 },
    );
  });

  it('scanDecimalBytes stops at the delimiter after the number with the same value', () => {
    fc.assert(
      fc.property(decimal, fc.constantFrom(',', ';', '\t', '|', '\n', '\r'), (s, stop) => {
        const buf = Buffer.from(`${s}${stop}9`, 'latin1');
        const got = scanDecimalBytes(buf, 0, buf.length);
        if (scanEnd[0] !== s.length) return false;
        return Number.isNaN(got) || Object.is(got, Number(s));
      }),
      { numRuns: 20_000 },
    );
  });

  it('decides nearly every price-like string of up to 17 significant digits', () => {
    let decided = 0;
    let total = 0;
    fc.assert(
      fc.property(fc.double({ min: 1e-4, max: 1e7, noNaN: true }), (v) => {
        const s = String(v);
        if (s.includes('e')) return true;
        total++;
        const got = parseDecimalAt(s, 0, s.length);
        if (!Number.isNaN(got)) decided++;
        return Number.isNaN(got) || Object.is(got, Number(s));
      }),
      { numRuns: 5_000 },
    );
    expect(decided / total).toBeGreaterThan(0.9);
  });
});
