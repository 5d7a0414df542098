import { createHash } from 'node:crypto';
import type { ClosedTrade } from '../core/events.js';

/** Version tag hashed in front of the trade lines: a change of the canonical form must change every fingerprint. */
export const FINGERPRINT_VERSION = 'tradeforge-trades-v1';

/** Significant digits kept for prices, quantities and money: enough for any result, deaf to last-bit float noise. */
export const FINGERPRINT_DIGITS = 12;

/** Canonical text of one number: 12 significant digits, shortest form, -0 as 0; NaN/Infinity spelled out. */
export function canonicalNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  return String(Number(x.toPrecision(FINGERPRINT_DIGITS)));
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
