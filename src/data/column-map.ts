import { echoValue } from '../core/errors.js';
import { DataError } from '../core/index.js';
import type { ColumnMapping } from './types.js';

/** The required and optional OHLCV fields in their canonical order. */
export const BAR_FIELDS = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;

/** One of the OHLCV fields. */
export type BarField = (typeof BAR_FIELDS)[number];

const ALIASES: Record<BarField, readonly string[]> = {
  time: ['time', 'date', 'datetime', 'date_time', 'timestamp', 'ts', 't', 'open_time', 'opentime', 'time_utc', 'unix'],
  open: ['open', 'o', 'open_price', 'opening_price'],
  high: ['high', 'h', 'high_price', 'max_price'],
  low: ['low', 'l', 'low_price', 'min_price'],
  close: ['close', 'c', 'close_price', 'closing_price', 'last'],
  volume: ['volume', 'vol', 'v', 'base_volume', 'volume_base', 'qty'],
};

/** Normalises a header cell for matching: lower case, no quotes or angle brackets, spaces/dashes as `_`. */
export function normaliseHeader(name: string): string {
  return name
    .trim()
    .replace(/^["'<]+|["'>]+$/g, '')
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

/** Where each field sits in the source (position), plus the positions and names of the other columns. */
export interface ColumnPlan {
  fields: Record<BarField, number>;
  extras: { index: number; name: string }[];
}

/**
 * Maps header names to fields: explicit mapping first, then exact aliases. `volume` is optional (filled with 0);
 * a missing required field is a DataError "missing column close" naming the file.
 */
export function planColumns(headers: readonly string[], mapping: ColumnMapping | undefined, file?: string): ColumnPlan {
  const norm = headers.map(normaliseHeader);
  const fields = { time: -1, open: -1, high: -1, low: -1, close: -1, volume: -1 } as Record<BarField, number>;
  const taken = new Set<number>();
  for (const f of BAR_FIELDS) {
    const m = mapping?.[f];
    if (m === undefined) continue;
    const idx = typeof m === 'number' ? m : norm.indexOf(normaliseHeader(m));
    if (idx < 0 || idx >= headers.length) {
      throw new DataError(`column ${echoValue(String(m))} mapped to ${f} is not in the header`, { file, row: 1 });
    }
    fields[f] = idx;
    taken.add(idx);
  }
  for (const f of BAR_FIELDS) {
    if (fields[f] >= 0) continue;
    for (const alias of ALIASES[f]) {
      const idx = norm.findIndex((h, i) => h === alias && !taken.has(i));
      if (idx >= 0) {
        fields[f] = idx;
        taken.add(idx);
        break;
      }
    }
  }
  for (const f of BAR_FIELDS) {
    if (f !== 'volume' && fields[f] < 0) {
      throw new DataError(`missing column ${f}${describeHeader(headers)}`, { file, row: 1, column: f });
    }
  }
  const extras: { index: number; name: string }[] = [];
  for (let i = 0; i < headers.length; i++) {
    if (!taken.has(i))
      extras.push({ index: i, name: headers[i].trim().replace(/^["']|["']$/g, '') || `column_${i + 1}` });
  }
  return { fields, extras };
}

const COLUMN_NAME = /^[\p{L}\p{N} _.()%#-]{1,40}$/u;
const HEADERS_SHOWN = 12;

/**
 * The header as it may appear in an error: shown only when every cell looks like a column name, since a first line
 * that doesn't is likely another kind of file (`--data /etc/shadow` must not print that file's first line).
 */
function describeHeader(headers: readonly string[]): string {
  const names = headers.map((h) => h.trim().replace(/^["']|["']$/g, ''));
  if (!names.every((h) => COLUMN_NAME.test(h))) {
    return ' (the first line is not a header of market data columns: is this a CSV/JSON bar file?)';
  }
  const shown = names.slice(0, HEADERS_SHOWN).join(', ');
  return ` (header: ${shown}${names.length > HEADERS_SHOWN ? `, ... ${names.length} columns` : ''})`;
}
