import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { DataError } from '../core/errors.js';
import { splitLine } from '../data/parse-csv.js';
import { parseTime } from '../data/time-parse.js';
import type { EquityMark, HistoryTrade } from '../risk/prop-firm-check.js';

/** Column names accepted for each field (a backtest's trades.csv / equity.csv, or camelCase JSON keys). */
const ALIASES: Record<string, readonly string[]> = {
  entryTime: ['entry_time', 'entrytime', 'open_time', 'opentime'],
  exitTime: ['exit_time', 'exittime', 'close_time', 'closetime', 'time'],
  pnl: ['pnl', 'profit', 'net_pnl', 'netpnl'],
  equity: ['equity'],
};

function readText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new DataError(`cannot read: ${(err as Error).message}`, { file });
  }
}

function findColumn(header: readonly string[], field: string): number {
  const names = ALIASES[field];
  return header.findIndex((h) => names.includes(h.trim().toLowerCase()));
}

function rows(file: string): { header: string[]; lines: { row: number; cells: string[] }[] } | { json: unknown } {
  const text = readText(file);
  if (extname(file).toLowerCase() === '.json') {
    try {
      return { json: JSON.parse(text) };
    } catch (err) {
      throw new DataError(`not valid JSON: ${(err as Error).message}`, { file });
    }
  }
  const all = text.split(/\r?\n/);
  const header = splitLine(all[0] ?? '', ',');
  const lines: { row: number; cells: string[] }[] = [];
  for (let i = 1; i < all.length; i++) if (all[i].trim()) lines.push({ row: i + 1, cells: splitLine(all[i], ',') });
  return { header, lines };
}

function timeOf(v: unknown, file: string, row: number, column: string): number {
  const t = typeof v === 'number' ? v : typeof v === 'string' ? parseTime(v) : Number.NaN;
  if (!Number.isFinite(t)) throw new DataError(`not a time: ${JSON.stringify(v)}`, { file, row, column });
  return t;
}

function numberOf(v: unknown, file: string, row: number, column: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
  if (!Number.isFinite(n)) throw new DataError(`not a number: ${JSON.stringify(v)}`, { file, row, column });
  return n;
}

/**
 * Reads closed trades from a CSV (a backtest's trades.csv: exit_time and pnl required, entry_time optional) or
 * JSON (an array of trades, or an object with a `trades` array, e.g. a backtest result). Errors name file,
 * row and column.
 */
export function readTradeHistory(file: string): HistoryTrade[] {
  const r = rows(file);
  if ('json' in r) {
    const j = r.json as { trades?: unknown } | unknown[];
    const list = Array.isArray(j)
      ? j
      : Array.isArray((j as { trades?: unknown }).trades)
        ? (j as { trades: unknown[] }).trades
        : null;
    if (list === null) throw new DataError('expected an array of trades or an object with a "trades" array', { file });
    return list.map((raw, i) => {
      const t = (raw ?? {}) as Record<string, unknown>;
      const row = i + 1;
      return {
        ...(t.entryTime !== undefined ? { entryTime: timeOf(t.entryTime, file, row, 'entryTime') } : {}),
        exitTime: timeOf(t.exitTime, file, row, 'exitTime'),
        pnl: numberOf(t.netPnl ?? t.pnl, file, row, t.netPnl !== undefined ? 'netPnl' : 'pnl'),
      };
    });
  }
  const exit = findColumn(r.header, 'exitTime');
  const pnl = findColumn(r.header, 'pnl');
  const entry = findColumn(r.header, 'entryTime');
  if (exit < 0) throw new DataError('no exit_time column in the header', { file, row: 1 });
  if (pnl < 0) throw new DataError('no pnl column in the header', { file, row: 1 });
  return r.lines.map(({ row, cells }) => ({
    ...(entry >= 0 && cells[entry]?.trim() ? { entryTime: timeOf(cells[entry], file, row, r.header[entry]) } : {}),
    exitTime: timeOf(cells[exit], file, row, r.header[exit]),
    pnl: numberOf(cells[pnl], file, row, r.header[pnl]),
  }));
}

/** Reads equity marks from a CSV with time and equity columns (a backtest's equity.csv) or a JSON array. */
export function readEquityMarks(file: string): EquityMark[] {
  const r = rows(file);
  if ('json' in r) {
    if (!Array.isArray(r.json)) throw new DataError('expected an array of {time, equity}', { file });
    return r.json.map((raw, i) => {
      const m = (raw ?? {}) as Record<string, unknown>;
      return { time: timeOf(m.time, file, i + 1, 'time'), equity: numberOf(m.equity, file, i + 1, 'equity') };
    });
  }
  const time = r.header.findIndex((h) => h.trim().toLowerCase() === 'time');
  const eq = findColumn(r.header, 'equity');
  if (time < 0 || eq < 0) throw new DataError('needs time and equity columns', { file, row: 1 });
  return r.lines.map(({ row, cells }) => ({
    time: timeOf(cells[time], file, row, 'time'),
    equity: numberOf(cells[eq], file, row, 'equity'),
  }));
}
