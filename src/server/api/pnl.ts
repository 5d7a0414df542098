/** P&L by day, week (Monday start) or month, in UTC, from closed trades. */
import type { ClosedTrade } from '../../core/events.js';

/** One period's totals. */
export interface PnlRow {
  /** ISO date of the period's first day. */
  start: string;
  pnl: number;
  trades: number;
  fees: number;
}

/** The UTC start (epoch ms) of the period holding `time`. */
export function periodStart(time: number, period: 'day' | 'week' | 'month'): number {
  const d = new Date(time);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  if (period === 'day') return day;
  if (period === 'month') return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const weekday = (d.getUTCDay() + 6) % 7; // Monday = 0
  return day - weekday * 86_400_000;
}

/** Sums trades by the period of their exit time, oldest first. */
export function pnlByPeriod(trades: readonly ClosedTrade[], period: 'day' | 'week' | 'month'): PnlRow[] {
  const rows = new Map<number, PnlRow>();
  for (const t of trades) {
    const start = periodStart(t.exitTime, period);
    let r = rows.get(start);
    if (!r) {
      r = { start: new Date(start).toISOString().slice(0, 10), pnl: 0, trades: 0, fees: 0 };
      rows.set(start, r);
    }
    r.pnl += t.pnl;
    r.fees += t.fees;
    r.trades++;
  }
  return [...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
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

/** Quotes a CSV field when needed; a leading = + - @ is prefixed with ' so spreadsheets do not run it as a formula. */
function csvField(v: unknown): string {
  if (v === undefined || v === null) return '';
  let s = typeof v === 'number' ? String(v) : String(v);
  if (typeof v === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Trades as CSV with a header row; times are ISO 8601 UTC. */
export function tradesCsv(trades: readonly ClosedTrade[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const t of trades) {
    lines.push(
      CSV_COLUMNS.map((c) =>
        csvField(c === 'entryTime' || c === 'exitTime' ? new Date(t[c]).toISOString() : t[c]),
      ).join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
