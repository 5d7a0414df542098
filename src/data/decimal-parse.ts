/**
 * Reads a plain decimal number (`-12.345`) straight out of a text range, without cutting the cell into a string,
 * and returns exactly the double `Number()` gives for it. Used by the CSV reader's fast path: `Number()` on a cut
 * cell was most of the time of a 1M-row import. Anything else (signs other than a leading `-`, exponents,
 * whitespace, more than 19 significant digits, more than 22 fraction digits, a result too close to a rounding
 * midpoint to decide with double-double arithmetic) returns NaN and the caller falls back to `Number()`.
 */

// Exact powers of ten (10^22 is the largest one a double holds exactly).
const POW10 = Float64Array.from({ length: 23 }, (_, i) => 10 ** i);
// Their reciprocals (rounded): the double-double quotient's approximation and correction multiply by them.
const INV_POW10 = Float64Array.from(POW10, (p) => 1 / p);
// Veltkamp splitter for 53-bit doubles: 2^27 + 1.
const SPLITTER = 134_217_729;
const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
// Index of the high word (sign, exponent, top of the mantissa) in `u32` on this machine.
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

// Half an ulp of a double by its biased exponent (a table: Math.pow per cell was a large part of the cost).
const HALF_ULP = Float64Array.from({ length: 2048 }, (_, e) => 2 ** (e - 1076));
// Relative error bound of the double-double quotient, with a wide margin (the arithmetic keeps about 2^-103).
const TOLERANCE = 2 ** -96;

/** Significant digits gathered before the last four go into a second part (10^15 < 2^53: exact). */
const EXACT_DIGITS = 15;
const MAX_DIGITS = 19;

/**
 * The double nearest `text[a..b)` read as `-?digits(.digits)?`, identical to `Number(text.slice(a, b))`, or NaN
 * when the text has another shape or the value cannot be decided here (the caller then uses `Number()`).
 */
export function parseDecimalAt(text: string, a: number, b: number): number {
  const n = b - a;
  if (n <= 0 || n > SCRATCH.length) return Number.NaN;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(a + i);
    // Not a character of a decimal (and would not survive the copy into a byte).
    if (c > 0x7f) return Number.NaN;
    SCRATCH[i] = c;
  }
  return parseDecimalBytes(SCRATCH, 0, n);
}

const SCRATCH = new Uint8Array(64);

/** Where the last `scanDecimalBytes` stopped (the first byte after the number it read). */
export const scanEnd = new Int32Array(1);

/**
 * Reads `-?digits(.digits)?` from `buf[a..]` (at most up to `limit`) and stops at the first byte that cannot
 * continue it, storing that position in `scanEnd[0]`; the value is exactly `Number()`'s for those bytes, or NaN
 * when undecided or malformed (the caller then finds the cell's end itself and falls back to `Number()`).
 */
export function scanDecimalBytes(buf: Uint8Array, a: number, limit: number): number {
  let i = a;
  let neg = false;
  if (i < limit && buf[i] === 45) {
    neg = true;
    i++;
  }
  let hi = 0;
  let lo = 0;
  let loDigits = 0;
  let sig = 0;
  let frac = 0;
  let chunk = 0;
  let chunkDigits = 0;
  const intStart = i;
  // Leading zeros are not significant.
  while (i < limit && buf[i] === 48) i++;
  let d = i < limit ? buf[i] - 48 : -1;
  while (d >= 0 && d <= 9) {
    if (++sig <= EXACT_DIGITS) {
      chunk = chunk * 10 + d;
      if (++chunkDigits === 8) {
        hi = hi * 1e8 + chunk;
        chunk = 0;
        chunkDigits = 0;
      }
    } else {
      lo = lo * 10 + d;
      loDigits++;
    }
    d = ++i < limit ? buf[i] - 48 : -1;
  }
  if (i === intStart) {
    scanEnd[0] = i;
    return Number.NaN;
  }
  if (d === -2) {
    // '.': the fraction.
    const fracStart = ++i;
    if (sig === 0) {
      while (i < limit && buf[i] === 48) i++;
    }
    d = i < limit ? buf[i] - 48 : -1;
    while (d >= 0 && d <= 9) {
      if (++sig <= EXACT_DIGITS) {
        chunk = chunk * 10 + d;
        if (++chunkDigits === 8) {
          hi = hi * 1e8 + chunk;
          chunk = 0;
          chunkDigits = 0;
        }
      } else {
        lo = lo * 10 + d;
        loDigits++;
      }
      d = ++i < limit ? buf[i] - 48 : -1;
    }
    frac = i - fracStart;
    if (frac === 0) {
      scanEnd[0] = i;
      return Number.NaN;
    }
  }
  scanEnd[0] = i;
  if (sig > MAX_DIGITS || frac > 22) return Number.NaN;
  if (chunkDigits > 0) hi = hi * POW10[chunkDigits] + chunk;
  let v: number;
  if (loDigits === 0) v = frac === 0 ? hi : hi / POW10[frac];
  else {
    v = nearestQuotient(hi, lo, loDigits, POW10[frac], INV_POW10[frac]);
    if (Number.isNaN(v)) return v;
  }
  return neg ? -v : v;
}

/** `parseDecimalAt` on ASCII bytes: the whole of `buf[a..b)` must be the number (else NaN). */
export function parseDecimalBytes(buf: Uint8Array, a: number, b: number): number {
  if (a >= b) return Number.NaN;
  const v = scanDecimalBytes(buf, a, b);
  return scanEnd[0] === b ? v : Number.NaN;
}

// The double nearest (hi x 10^loDigits + lo) / p, in double-double arithmetic (about 104 bits), or NaN when the
// exact quotient lies so close to a midpoint between two doubles that this precision cannot tell which side.
function nearestQuotient(hi: number, lo: number, loDigits: number, p: number, invP: number): number {
  // d = hi x 10^j + lo exactly, as dh + dl.
  const m = POW10[loDigits];
  const ph = hi * m;
  const pe = twoProductError(hi, m, ph);
  const sh = ph + lo;
  const bb = sh - ph;
  const se = ph - (sh - bb) + (lo - bb);
  const dh = sh;
  const dl = se + pe;
  // Quotient: qh ~ dh / p, ql = remainder / p, both by the rounded reciprocal (two dependent divisions measured a
  // tenth of a cell's time): qh is then within an ulp or two of dh / p, the remainder below stays exact (Sterbenz:
  // qh x p is within a factor 2 of dh) and ql's own rounding is about 2^-104 of x, far inside the tolerance.
  const qh = dh * invP;
  const mh = qh * p;
  const me = twoProductError(qh, p, mh);
  const r = dh - mh - me + dl;
  const ql = r * invP;
  const x = qh + ql;
  const xb = x - qh;
  const e = qh - (x - xb) + (ql - xb);
  // Half an ulp of x; a power of two has a smaller ulp below it: leave such values to Number().
  f64[0] = x;
  const top = u32[HI];
  const exp = (top >>> 20) & 0x7ff;
  if (exp === 0 || exp === 0x7ff || ((top & 0xfffff) === 0 && u32[1 - HI] === 0)) return Number.NaN;
  const half = HALF_ULP[exp];
  const ae = e < 0 ? -e : e;
  const gap = half - ae;
  if (gap <= x * TOLERANCE) return Number.NaN;
  return x;
}

// Exact error of the product a x b = p (Dekker's two-product without FMA).
function twoProductError(a: number, b: number, p: number): number {
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}
