import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { z } from 'zod';
import { DataError, ValidationError } from '../core/errors.js';
import { splitLine } from '../data/parse-csv.js';
import { loadBars } from '../data/load.js';
import type { ReportPosition } from '../risk/risk-report.js';
import type { PriceHistory } from '../risk/stress.js';

const positionSchema = z.strictObject({
  symbol: z.string().min(1),
  quantity: z.number().refine((q) => q !== 0, 'must not be 0'),
  price: z.number().positive().optional(),
  multiplier: z.number().positive().optional(),
  strategy: z.string().optional(),
  venue: z.string().optional(),
  assetClass: z.enum(['equity', 'crypto', 'fx', 'commodity', 'other']).optional(),
});

const CSV_KEYS: Record<string, keyof z.infer<typeof positionSchema>> = {
  symbol: 'symbol',
  quantity: 'quantity',
  qty: 'quantity',
  price: 'price',
  multiplier: 'multiplier',
  strategy: 'strategy',
  strategy_id: 'strategy',
  deployment: 'strategy',
  venue: 'venue',
  asset_class: 'assetClass',
  assetclass: 'assetClass',
};
const NUMERIC = new Set(['quantity', 'price', 'multiplier']);

/**
 * Reads current positions from JSON (an array of {symbol, quantity, price?, multiplier?, strategy?, venue?,
 * assetClass?}) or CSV with those columns. Errors name file, row and field.
 */
export function readPositionsFile(file: string): ReportPosition[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DataError(`cannot read: ${(err as Error).message}`, { file });
  }
  let rows: { row: number; raw: Record<string, unknown> }[];
  if (extname(file).toLowerCase() === '.json') {
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch (err) {
      throw new DataError(`not valid JSON: ${(err as Error).message}`, { file });
    }
    if (!Array.isArray(j)) throw new DataError('expected an array of positions', { file });
    rows = j.map((raw, i) => ({ row: i + 1, raw: (raw ?? {}) as Record<string, unknown> }));
  } else {
    const lines = text.split(/\r?\n/);
    const header = splitLine(lines[0] ?? '', ',').map((h) => h.trim().toLowerCase());
    for (const h of header) {
      if (!(h in CSV_KEYS))
        throw new DataError(`unknown column "${h}" (known: ${Object.keys(CSV_KEYS).join(', ')})`, { file, row: 1 });
    }
    rows = [];
    for (let i = 1; i < lines.length; i++) {
      if (!lines[i].trim()) continue;
      const cells = splitLine(lines[i], ',');
      const raw: Record<string, unknown> = {};
      header.forEach((h, k) => {
        const key = CSV_KEYS[h];
        const cell = (cells[k] ?? '').trim();
        if (cell === '') return;
        raw[key] = NUMERIC.has(key) ? Number(cell) : cell;
      });
      rows.push({ row: i + 1, raw });
    }
  }
  return rows.map(({ row, raw }) => {
    const r = positionSchema.safeParse(raw);
    if (!r.success) {
      const issue = r.error.issues[0];
      throw new DataError(issue.message, { file, row, column: issue.path.map(String).join('.') || undefined });
    }
    return r.data;
  });
}

/**
 * Daily closes for each symbol: `SYMBOL=SOURCE` overrides (a bar file or a store spec), else the data store's
 * `SYMBOL@1d`. Errors name the symbol.
 */
export function loadDailyHistory(
  symbols: readonly string[],
  overrides: Readonly<Record<string, string>>,
): Record<string, PriceHistory> {
  const out: Record<string, PriceHistory> = {};
  for (const s of new Set(symbols)) {
    const source = overrides[s] ?? `${s}@1d`;
    let bars: ReturnType<typeof loadBars>;
    try {
      bars = loadBars(source, { timeframe: '1d' });
    } catch (err) {
      throw new ValidationError(
        `no daily history for ${s} (${source}): ${(err as Error).message}; give --history ${s}=FILE`,
        '--history',
      );
    }
    if (bars.timeframe !== undefined && bars.timeframe !== '1d') {
      throw new ValidationError(`history for ${s} is ${bars.timeframe} bars; VaR needs daily bars (1d)`, '--history');
    }
    out[s] = { time: bars.columns.time, close: bars.columns.close };
  }
  return out;
}

/** Parses repeated `SYMBOL=SOURCE` flags. */
export function parseHistoryFlags(values: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0 || i === v.length - 1)
      throw new ValidationError(`--history expects SYMBOL=SOURCE, got "${v}"`, '--history');
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}
