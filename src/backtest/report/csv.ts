import type { ClosedTrade } from '../../core/events.js';
import type { FillRecord } from '../../core/fill.js';
import type { StatValue } from '../../strategy/types.js';
import type { EquityCurve } from '../metrics.js';
import { isoTime } from './format.js';

/** Quotes a CSV field when it holds a comma, quote or line break (RFC 4180). */
function field(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A number as CSV text: shortest round-trip form, empty for NaN/Infinity. */
function num(x: number): string {
  return Number.isFinite(x) ? String(x) : '';
}

/** Header of trades.csv. */
export const TRADES_CSV_HEADER =
  'symbol,side,entry_time,entry_price,exit_time,exit_price,quantity,fees,gross_pnl,net_pnl,net_pnl_pct,exit_reason,entry_tag,strategy_id';

/** trades.csv: one row per closed trade, times ISO 8601 UTC, numbers in full precision, `net_pnl_pct` in percent. */
export function renderTradesCsv(trades: readonly ClosedTrade[]): string {
  const lines = [TRADES_CSV_HEADER];
  for (const t of trades) {
    lines.push(
      [
        field(t.symbol),
        t.side,
        isoTime(t.entryTime),
        num(t.entryPrice),
        isoTime(t.exitTime),
        num(t.exitPrice),
        num(t.quantity),
        num(t.fees),
        num(t.pnl + t.fees),
        num(t.pnl),
        num(t.pnlPct * 100),
        field(t.exitReason),
        field(t.entryTag ?? ''),
        field(t.strategyId),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Header of equity.csv. */
export const EQUITY_CSV_HEADER = 'time,equity,drawdown_pct';

/**
 * equity.csv: one row per bar with the equity and its drawdown below the running peak in percent (0 or positive) (the peak starts
 * at `initialCash` when given, else at the first value — the same convention as the metrics).
 */
export function renderEquityCsv(equity: EquityCurve, initialCash?: number): string {
  const n = equity.value.length;
  const parts: string[] = [EQUITY_CSV_HEADER];
  let peak = initialCash ?? (n ? equity.value[0] : 0);
  for (let i = 0; i < n; i++) {
    const v = equity.value[i];
    if (v > peak) peak = v;
    const dd = peak > 0 ? ((peak - v) / peak) * 100 : 0;
    parts.push(`${isoTime(equity.time[i])},${num(v)},${num(dd)}`);
  }
  return `${parts.join('\n')}\n`;
}

/** Header of fills.csv. */
export const FILLS_CSV_HEADER = 'time,symbol,side,price,quantity,fee,order_type,tag,liquidity';

/** fills.csv: one row per fill in execution order, times ISO 8601 UTC, numbers in full precision. */
export function renderFillsCsv(fills: readonly FillRecord[]): string {
  const lines = [FILLS_CSV_HEADER];
  for (const f of fills) {
    lines.push(
      [
        isoTime(f.time),
        field(f.symbol),
        f.side,
        num(f.price),
        num(f.quantity),
        num(f.fee),
        f.orderType,
        field(f.tag ?? ''),
        f.liquidity,
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/** One strategy statistics table as CSV (its own columns; text quoted as needed, null as empty). */
export function renderStatTableCsv(columns: readonly string[], rows: readonly (readonly StatValue[])[]): string {
  const cell = (v: StatValue): string =>
    v === null ? '' : typeof v === 'number' ? num(v) : typeof v === 'boolean' ? String(v) : field(v);
  const lines = [columns.map(field).join(','), ...rows.map((r) => r.map(cell).join(','))];
  return `${lines.join('\n')}\n`;
}
