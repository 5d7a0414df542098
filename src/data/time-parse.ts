/** Parsing of bar times: ISO-8601 dates/datetimes (UTC unless an offset is given) and epoch numbers. */

const ISO =
  /^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?$/;
const NUMERIC = /^[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Converts an epoch number to milliseconds, choosing the unit by magnitude: below 1e11 seconds (1e11 s is
 * the year 5138, 1e11 ms is 1973), then milliseconds, from 1e14 microseconds, from 1e17 nanoseconds.
 */
export function epochToMs(value: number): number {
  const a = Math.abs(value);
  if (a >= 1e17) return Math.round(value / 1e6);
  if (a >= 1e14) return Math.round(value / 1e3);
  if (a >= 1e11) return Math.round(value);
  return Math.round(value * 1000);
}

function byteDigits(buf: Uint8Array, at: number, n: number): number {
  let v = 0;
  for (let i = at; i < at + n; i++) {
    const d = buf[i] - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

// The day of the last date read, by its digits (consecutive bars share it).
let cachedKey = -1;
let cachedKeyDay = Number.NaN;

/**
 * The fixed layouts `YYYY-MM-DD`, `YYYY-MM-DD[T ]HH:MM:SS` and the same with `Z`, read from the bytes `buf[a..b)`;
 * NaN for any other text (the caller then uses `parseTime`, which reads every layout and refuses bad dates).
 */
function fixedTimeBytes(buf: Uint8Array, a: number, b: number): number {
  const len = b - a;
  if ((len !== 10 && len !== 19 && !(len === 20 && buf[a + 19] === 90)) || buf[a + 4] !== 45 || buf[a + 7] !== 45) {
    return Number.NaN;
  }
  const y = byteDigits(buf, a, 4);
  const m = byteDigits(buf, a + 5, 2);
  const d = byteDigits(buf, a + 8, 2);
  if (y < 0 || m < 0 || d < 0) return Number.NaN;
  const key = (y * 100 + m) * 100 + d;
  let day: number;
  if (key === cachedKey) day = cachedKeyDay;
  else {
    if (m < 1 || m > 12 || d < 1 || d > DAYS_IN_MONTH[m - 1] || (m === 2 && d === 29 && !isLeap(y))) {
      return Number.NaN;
    }
    day = Date.UTC(y, m - 1, d);
    cachedKey = key;
    cachedKeyDay = day;
  }
  if (len === 10) return day;
  const sep = buf[a + 10];
  if ((sep !== 84 && sep !== 32) || buf[a + 13] !== 58 || buf[a + 16] !== 58) return Number.NaN;
  const hh = byteDigits(buf, a + 11, 2);
  const mm = byteDigits(buf, a + 14, 2);
  const ss = byteDigits(buf, a + 17, 2);
  if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 59) return Number.NaN;
  return day + ((hh * 60 + mm) * 60 + ss) * 1000;
}

// Text of at most 20 one-byte characters copied as bytes, so strings and files share `fixedTimeBytes`.
const SCRATCH = new Uint8Array(20);

// `fixedTimeBytes` on `text[a..b)`: NaN when the text is longer than a fixed layout or not one-byte.
function fixedTimeText(text: string, a: number, b: number): number {
  const n = b - a;
  if (n < 10 || n > SCRATCH.length) return Number.NaN;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(a + i);
    if (c > 0x7f) return Number.NaN;
    SCRATCH[i] = c;
  }
  return fixedTimeBytes(SCRATCH, 0, n);
}

/**
 * `parseTime(text.slice(a, b))` without cutting the cell out when it has a fixed layout
 * (`YYYY-MM-DD`, `YYYY-MM-DD[T ]HH:MM:SS[Z]`, read in place); any other text goes to `parseTime`.
 */
export function parseTimeAt(text: string, a: number, b: number): number {
  const t = fixedTimeText(text, a, b);
  return Number.isNaN(t) ? parseTime(text.slice(a, b)) : t;
}

/**
 * `parseTimeAt` on a file's ASCII bytes: the fixed layouts read from the bytes, any other cell through `parseTime`
 * on its text, which `cell(a, b)` gives.
 */
export function parseTimeBytes(buf: Uint8Array, a: number, b: number, cell: (a: number, b: number) => string): number {
  const t = fixedTimeBytes(buf, a, b);
  return Number.isNaN(t) ? parseTime(cell(a, b)) : t;
}

/** Parses a time cell into epoch ms UTC; returns NaN when the text is neither an ISO time nor an epoch number. */
export function parseTime(text: string): number {
  const fixed = fixedTimeText(text, 0, text.length);
  if (!Number.isNaN(fixed)) return fixed;
  const s = text.trim();
  if (s.length === 0) return Number.NaN;
  if (NUMERIC.test(s)) return epochToMs(Number(s));
  const m = ISO.exec(s);
  if (!m) return Number.NaN;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] ? Number(m[4]) : 0;
  const minute = m[5] ? Number(m[5]) : 0;
  const second = m[6] ? Number(m[6]) : 0;
  const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
  if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]) return Number.NaN;
  if (month === 2 && day === 29 && !isLeap(year)) return Number.NaN;
  if (hour > 23 || minute > 59 || second > 59) return Number.NaN;
  let t = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const zone = m[8];
  if (zone && zone !== 'Z' && zone !== 'z' && zone !== 'UTC') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offH = Number(digits.slice(0, 2));
    const offM = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (offH > 23 || offM > 59) return Number.NaN;
    t -= sign * (offH * 60 + offM) * 60_000;
  }
  return t;
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/** Formats epoch ms as ISO-8601 UTC, as a plain date when the time is midnight. */
export function formatTime(ms: number, dateOnly?: boolean): string {
  if (!Number.isFinite(ms)) return String(ms);
  const iso = new Date(ms).toISOString();
  if (dateOnly ?? ms % 86_400_000 === 0) return iso.slice(0, 10);
  return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
}
