import { echoValue } from '../core/errors.js';
import { type BarColumns, DataError } from '../core/index.js';
import { type ColumnPlan, planColumns } from './column-map.js';
import { buildExtras, type ParsedBars, parseNumberCell } from './parsed-bars.js';
import { parseTime } from './time-parse.js';
import type { ImportOptions } from './types.js';

const DELIMITERS = [',', ';', '\t', '|'] as const;

/**
 * Longest line read, checked before the line is cut out of the text: a bar needs well under 1 KiB, and a file with a
 * 5M-column line or a 100 MB field must not turn into millions of strings (it took 1.5 GB of memory).
 */
export const MAX_LINE_CHARS = 65_536;
/** Most columns in a row (time, OHLCV and extra columns). */
export const MAX_COLUMNS = 1_024;

/** Picks the delimiter that splits the header line into the most cells (ties: `,` `;` tab `|`). */
export function detectDelimiter(line: string): string {
  let best = ',';
  let bestCount = 0;
  for (const d of DELIMITERS) {
    const n = splitLine(line, d).length - 1;
    if (n > bestCount) {
      best = d;
      bestCount = n;
    }
  }
  return best;
}

/** Splits one CSV line, honouring double quotes (with `""` escapes) only when the line has any. */
export function splitLine(line: string, delimiter: string): string[] {
  if (!line.includes('"')) return line.split(delimiter);
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"') {
        if (line[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (line.startsWith(delimiter, i)) {
      out.push(cell);
      cell = '';
      i += delimiter.length - 1;
    } else cell += ch;
  }
  out.push(cell);
  return out;
}

function looksLikeHeader(cells: readonly string[]): boolean {
  // A data row is all numbers or times; any other cell means this is a header.
  return cells.some((c) => {
    const s = c.trim().replace(/^"|"$/g, '');
    return s.length > 0 && Number.isNaN(Number(s)) && Number.isNaN(parseTime(s));
  });
}

/** Parses CSV text into columns (times as read, not yet validated). Errors name file, row and column. */
export function parseCsv(text: string, opts: ImportOptions = {}, file?: string): ParsedBars {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.trim().length === 0) throw new DataError('file is empty', { file });
  let capacity = 1;
  for (let p = text.indexOf('\n'); p >= 0; p = text.indexOf('\n', p + 1)) capacity++;

  let pos = 0;
  let lineNo = 0;
  const nextLine = (): string | undefined => {
    while (pos < text.length) {
      const nl = text.indexOf('\n', pos);
      const end = nl < 0 ? text.length : nl;
      if (end - pos > MAX_LINE_CHARS) {
        throw new DataError(`line is ${end - pos} characters long; the limit is ${MAX_LINE_CHARS}`, {
          file,
          row: lineNo + 1,
        });
      }
      let line = text.slice(pos, end);
      pos = end + 1;
      lineNo++;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.trim().length > 0) return line;
    }
    return undefined;
  };

  const first = nextLine() as string;
  const delimiter = opts.delimiter ?? detectDelimiter(first);
  const firstCells = splitLine(first, delimiter);
  if (firstCells.length > MAX_COLUMNS) {
    throw new DataError(`${firstCells.length} columns; the limit is ${MAX_COLUMNS}`, { file, row: lineNo });
  }
  const hasHeader = opts.header ?? looksLikeHeader(firstCells);
  let plan: ColumnPlan;
  let pending: string | undefined;
  let pendingLine = 0;
  if (hasHeader) {
    plan = planColumns(firstCells, opts.columns, file);
  } else {
    const defaults = ['time', 'open', 'high', 'low', 'close', 'volume'];
    const headers = firstCells.map((_, i) => defaults[i] ?? `column_${i + 1}`);
    plan = planColumns(headers, opts.columns, file);
    pending = first;
    pendingLine = lineNo;
  }
  const width = firstCells.length;
  const f = plan.fields;
  const time = new Float64Array(capacity);
  const open = new Float64Array(capacity);
  const high = new Float64Array(capacity);
  const low = new Float64Array(capacity);
  const close = new Float64Array(capacity);
  const volume = new Float64Array(capacity);
  const rowNumbers = new Int32Array(capacity);
  const extraRaw: string[][] = plan.extras.map(() => []);
  const decimalComma = delimiter !== ',';
  let n = 0;

  for (;;) {
    let line: string | undefined;
    let row: number;
    if (pending !== undefined) {
      line = pending;
      row = pendingLine;
      pending = undefined;
    } else {
      line = nextLine();
      row = lineNo;
    }
    if (line === undefined) break;
    if (opts.onProgress && (n & 0xffff) === 0) opts.onProgress(pos, text.length);
    const cells = splitLine(line, delimiter);
    if (cells.length !== width) {
      throw new DataError(`${cells.length} values but the header has ${width} columns`, { file, row });
    }
    const t = parseTime(unquote(cells[f.time]));
    if (Number.isNaN(t)) {
      throw new DataError(`${echoValue(cells[f.time].trim())} is not a time (ISO-8601 or epoch seconds/ms)`, {
        file,
        row,
        column: 'time',
      });
    }
    time[n] = t;
    open[n] = parseNumberCell(cells[f.open], decimalComma, file, row, 'open');
    high[n] = parseNumberCell(cells[f.high], decimalComma, file, row, 'high');
    low[n] = parseNumberCell(cells[f.low], decimalComma, file, row, 'low');
    close[n] = parseNumberCell(cells[f.close], decimalComma, file, row, 'close');
    volume[n] = f.volume >= 0 ? parseNumberCell(cells[f.volume], decimalComma, file, row, 'volume') : 0;
    for (let e = 0; e < plan.extras.length; e++) extraRaw[e].push(unquote(cells[plan.extras[e].index]));
    rowNumbers[n] = row;
    n++;
  }
  if (n === 0) throw new DataError('file is empty (a header but no data rows)', { file, row: 2 });
  const columns: BarColumns = {
    length: n,
    time: time.slice(0, n),
    open: open.slice(0, n),
    high: high.slice(0, n),
    low: low.slice(0, n),
    close: close.slice(0, n),
    volume: volume.slice(0, n),
    ...buildExtras(
      plan.extras.map((x) => x.name),
      extraRaw,
      decimalComma,
    ),
  };
  return { columns, rowNumbers: rowNumbers.slice(0, n) };
}

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}
