/**
 * P&L by day, week (ISO: Monday start) or month, from closed trades, with day boundaries in an IANA time zone
 * (default UTC); and the trades' CSV export.
 */
import type { ClosedTrade, ClosedTradeExact } from '../../core/events.js';
import { type DecimalText, type Exact, ZERO, decimalText, exact, toDouble } from '../../core/money.js';

/** One period's totals. */
export interface PnlRow {
  /** ISO date of the period's first day, in the chosen time zone. */
  start: string;
  pnl: number;
  trades: number;
  fees: number;
  /** The exact sums (decimal text) when every trade of the period carries exact figures (paper and live). */
  exact?: { pnl: DecimalText; fees: DecimalText };
}

/** A P&L period. */
export type PnlPeriod = 'day' | 'week' | 'month';

/** Whether `tz` is a time zone this runtime knows (IANA name such as Europe/Berlin, or UTC). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The calendar date (year, month 1-12, day) of `time` in `tz`. */
function localDate(time: number, tz: string): { y: number; m: number; d: number } {
  let f = formats.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: 'numeric', day: 'numeric' });
    formats.set(tz, f);
  }
  const parts = f.formatToParts(time);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return { y: part('year'), m: part('month'), d: part('day') };
}

/** The first day (ISO date) of the period holding `time`, with days as the calendar of `tz`. */
export function periodStartDate(time: number, period: PnlPeriod, tz = 'UTC'): string {
  const { y, m, d } = localDate(time, tz);
  // The local calendar date as a UTC midnight: weekday and month arithmetic without offsets.
  const day = Date.UTC(y, m - 1, d);
  if (period === 'day') return new Date(day).toISOString().slice(0, 10);
  if (period === 'month') return new Date(Date.UTC(y, m - 1, 1)).toISOString().slice(0, 10);
  const weekday = (new Date(day).getUTCDay() + 6) % 7; // Monday = 0
  return new Date(day - weekday * 86_400_000).toISOString().slice(0, 10);
}

/**
 * Sums trades by the period of their exit time (days in `tz`, default UTC), oldest first. A period whose trades all
 * carry exact figures is summed in decimals (its doubles are the nearest to those sums, no float residue); one
 * trade without them (a backtest's, or stored before exact trades) makes the period a sum of doubles.
 */
export function pnlByPeriod(trades: readonly ClosedTrade[], period: PnlPeriod, tz = 'UTC'): PnlRow[] {
  const rows = new Map<string, PnlRow & { exactPnl: Exact | undefined; exactFees: Exact | undefined }>();
  for (const t of trades) {
    const start = periodStartDate(t.exitTime, period, tz);
    let r = rows.get(start);
    if (!r) {
      r = { start, pnl: 0, trades: 0, fees: 0, exactPnl: ZERO, exactFees: ZERO };
      rows.set(start, r);
    }
    r.pnl += t.pnl;
    r.fees += t.fees;
    r.trades++;
    if (t.exact !== undefined && r.exactPnl !== undefined && r.exactFees !== undefined) {
      r.exactPnl = r.exactPnl.plus(exact(t.exact.pnl, 'trade.exact.pnl'));
      r.exactFees = r.exactFees.plus(exact(t.exact.fees, 'trade.exact.fees'));
    } else {
      r.exactPnl = undefined;
      r.exactFees = undefined;
    }
  }
  return [...rows.values()]
    .sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0))
    .map(({ exactPnl, exactFees, ...row }) =>
      exactPnl !== undefined && exactFees !== undefined
        ? {
            ...row,
            pnl: toDouble(exactPnl),
            fees: toDouble(exactFees),
            exact: { pnl: decimalText(exactPnl), fees: decimalText(exactFees) },
          }
        : row,
    );
}

const CSV_COLUMNS = [
  'strategyId',
  'symbol',
  'side',
  'entryTime',
  'entryPrice',
  'exitTime',
  'exitPrice',
  'quantity',
  'fees',
  'pnl',
  'pnlPct',
  'exitReason',
  'entryTag',
] as const;

// Columns a trade also carries as exact decimal text (paper and live): the CSV writes that text, not the double.
const EXACT_COLUMNS: ReadonlySet<string> = new Set<keyof ClosedTradeExact>([
  'entryPrice',
  'exitPrice',
  'quantity',
  'fees',
  'pnl',
]);

/** Quotes a CSV field when needed; a leading = + - @ is prefixed with ' so spreadsheets do not run it as a formula. */
function csvField(v: unknown): string {
  if (v === undefined || v === null) return '';
  let s = typeof v === 'number' ? String(v) : String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Trades as CSV with a header row; times are ISO 8601 UTC. Prices, quantity, fees and P&L are the exact decimal
 * text where the trade carries it (a plain decimal: no formula prefix, so `-0.5` stays a number in a spreadsheet).
 */
export function tradesCsv(trades: readonly ClosedTrade[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const t of trades) {
    lines.push(
      CSV_COLUMNS.map((c) => {
        const text = EXACT_COLUMNS.has(c) ? t.exact?.[c as keyof ClosedTradeExact] : undefined;
        if (text !== undefined) return text;
        return csvField(c === 'entryTime' || c === 'exitTime' ? new Date(t[c]).toISOString() : t[c]);
      }).join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
