import { createHash } from 'node:crypto';
import type { ClosedTrade } from '../core/events.js';

/** Version tag hashed in front of the trade lines: a change of the canonical form must change every fingerprint. */
export const FINGERPRINT_VERSION = 'tradeforge-trades-v1';

/** Significant digits kept for prices, quantities and money: enough for any result, deaf to last-bit float noise. */
export const FINGERPRINT_DIGITS = 12;

// Exact powers of ten (every 10^k with k <= 22 is a double).
const POW10 = Array.from({ length: 23 }, (_, k) => 10 ** k);

// The definition: the exact value rounded to 12 significant digits (toPrecision), printed in shortest form.
function preciseCanonical(x: number): string {
  return String(Number(x.toPrecision(FINGERPRINT_DIGITS)));
}

/**
 * Canonical text of one number: 12 significant digits, shortest form, -0 as 0; NaN/Infinity spelled out.
 * Same output as `String(Number(x.toPrecision(12)))`, about three times faster: x is scaled by an exact power
 * of ten to [1e11, 1e12) (one rounding, error below 1e-4) and rounded to an integer m; m / 10^k is then the
 * double nearest the 12-digit decimal, as parsing it would give. Near a rounding tie, or outside the exact
 * powers, it takes the toPrecision path.
 */
export function canonicalNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const ax = x < 0 ? -x : x;
  let k = 11 - Math.floor(Math.log10(ax));
  if (k > 22 || k < -22) return preciseCanonical(x);
  let scaled = k >= 0 ? ax * POW10[k] : ax / POW10[-k];
  if (scaled >= 1e12 || scaled < 1e11) {
    // log10 can be off by one next to a power of ten.
    k += scaled >= 1e12 ? -1 : 1;
    if (k > 22 || k < -22) return preciseCanonical(x);
    scaled = k >= 0 ? ax * POW10[k] : ax / POW10[-k];
  }
  const floor = Math.floor(scaled);
  const frac = scaled - floor;
  if (frac > 0.499 && frac < 0.501) return preciseCanonical(x);
  const m = frac > 0.5 ? floor + 1 : floor;
  const y = k >= 0 ? m / POW10[k] : m * POW10[-k];
  return String(x < 0 ? -y : y);
}

/**
 * Canonical line of one trade, fields in this fixed order separated by `|`: symbol, side, entryTime, entryPrice,
 * exitTime, exitPrice, quantity, fees, pnl, pnlPct, exitReason, entryTag. Strings are JSON-quoted (so a `|` in a
 * tag cannot shift fields); times are integers in epoch ms. The strategy id is left out: it names the run, it is
 * not part of its result.
 */
export function canonicalTradeLine(t: ClosedTrade): string {
  return [
    JSON.stringify(t.symbol),
    t.side,
    canonicalNumber(t.entryTime),
    canonicalNumber(t.entryPrice),
    canonicalNumber(t.exitTime),
    canonicalNumber(t.exitPrice),
    canonicalNumber(t.quantity),
    canonicalNumber(t.fees),
    canonicalNumber(t.pnl),
    canonicalNumber(t.pnlPct),
    JSON.stringify(t.exitReason),
    t.entryTag === undefined ? '-' : JSON.stringify(t.entryTag),
  ].join('|');
}

/**
 * sha256 (hex) of the canonical trade list: the version tag, then one line per trade sorted by exit time,
 * entry time, then the line itself (so the order in which a multi-symbol engine emits simultaneous closes does
 * not matter), joined by `\n`. Two runs with the same fingerprint produced the same trades (BT-8).
 */
export function tradeFingerprint(trades: readonly ClosedTrade[]): string {
  const rows = trades.map((t) => ({ exit: t.exitTime, entry: t.entryTime, line: canonicalTradeLine(t) }));
  rows.sort((a, b) => a.exit - b.exit || a.entry - b.entry || (a.line < b.line ? -1 : a.line > b.line ? 1 : 0));
  const hash = createHash('sha256');
  hash.update(FINGERPRINT_VERSION);
  for (const r of rows) hash.update(`\n${r.line}`);
  return hash.digest('hex');
}
