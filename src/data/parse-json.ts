import { echoValue } from '../core/errors.js';
import { type BarColumns, DataError } from '../core/index.js';
import { MAX_COLUMNS } from './parse-csv.js';
import { BAR_FIELDS, planColumns } from './column-map.js';
import { buildExtras, type ParsedBars, parseNumberCell } from './parsed-bars.js';
import { epochToMs, parseTime } from './time-parse.js';
import type { ImportOptions } from './types.js';

const WRAPPER_KEYS = ['data', 'bars', 'candles', 'ohlcv', 'rows'];

/**
 * Parses JSON bars: an array of objects (keys mapped like CSV headers), an array of arrays
 * `[time, open, high, low, close, volume, ...]` (ccxt OHLCV), or either wrapped as `{data: [...]}`.
 * Row numbers in messages are 1-based element positions.
 */
export function parseJson(text: string, opts: ImportOptions = {}, file?: string): ParsedBars {
  if (text.trim().length === 0) throw new DataError('file is empty', { file });
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new DataError(`not valid JSON (${(err as Error).message})`, { file });
  }
  if (doc && typeof doc === 'object' && !Array.isArray(doc)) {
    const rec = doc as Record<string, unknown>;
    const key = WRAPPER_KEYS.find((k) => Array.isArray(rec[k]));
    if (!key) throw new DataError(`expected an array of bars or an object with a "data" array`, { file });
    doc = rec[key];
  }
  if (!Array.isArray(doc)) throw new DataError('expected an array of bars', { file });
  const items = doc as unknown[];
  if (items.length === 0) throw new DataError('file is empty (no bars)', { file });
  const first = items[0];
  const headers: string[] = Array.isArray(first)
    ? first.map((_, i) => BAR_FIELDS[i] ?? `column_${i + 1}`)
    : first && typeof first === 'object'
      ? Object.keys(first)
      : [];
  if (headers.length === 0) throw new DataError('a bar must be an object or an array', { file, row: 1 });
  if (headers.length > MAX_COLUMNS) {
    throw new DataError(`${headers.length} fields in a bar; the limit is ${MAX_COLUMNS}`, { file, row: 1 });
  }
  const plan = planColumns(headers, opts.columns, file);
  const n = items.length;
  const cols = {
    time: new Float64Array(n),
    open: new Float64Array(n),
    high: new Float64Array(n),
    low: new Float64Array(n),
    close: new Float64Array(n),
    volume: new Float64Array(n),
  };
  const rowNumbers = new Int32Array(n);
  const extraRaw: string[][] = plan.extras.map(() => []);
  const arrayForm = Array.isArray(first);
  for (let i = 0; i < n; i++) {
    const row = i + 1;
    const item = items[i];
    const get = (idx: number): unknown => {
      if (arrayForm) {
        if (!Array.isArray(item)) throw new DataError('expected an array like the first bar', { file, row });
        return item[idx];
      }
      if (!item || typeof item !== 'object' || Array.isArray(item)) {
        throw new DataError('expected an object like the first bar', { file, row });
      }
      return (item as Record<string, unknown>)[headers[idx]];
    };
    const tv = get(plan.fields.time);
    const t = typeof tv === 'number' ? epochToMs(tv) : typeof tv === 'string' ? parseTime(tv) : Number.NaN;
    if (!Number.isFinite(t)) {
      throw new DataError(`${echoValue(JSON.stringify(tv ?? null))} is not a time (ISO-8601 or epoch seconds/ms)`, {
        file,
        row,
        column: 'time',
      });
    }
    cols.time[i] = t;
    for (const f of ['open', 'high', 'low', 'close', 'volume'] as const) {
      const idx = plan.fields[f];
      if (idx < 0) continue;
      const v = get(idx);
      cols[f][i] =
        typeof v === 'number' && Number.isFinite(v)
          ? v
          : parseNumberCell(v === undefined || v === null ? '' : String(v), false, file, row, f);
    }
    for (let e = 0; e < plan.extras.length; e++) {
      const v = get(plan.extras[e].index);
      extraRaw[e].push(v === undefined || v === null ? '' : String(v));
    }
    rowNumbers[i] = row;
  }
  const columns: BarColumns = {
    length: n,
    ...cols,
    ...buildExtras(
      plan.extras.map((x) => x.name),
      extraRaw,
      false,
    ),
  };
  return { columns, rowNumbers };
}
