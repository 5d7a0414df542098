import { echoValue } from '../core/errors.js';
import { type BarColumns, DataError } from '../core/index.js';
import { type ColumnPlan, planColumns } from './column-map.js';
import { buildExtras, isRadixLiteral, type ParsedBars, parseNumberCell } from './parsed-bars.js';
import { parseDecimalAt, scanDecimalBytes, scanEnd } from './decimal-parse.js';
import { parseTime, parseTimeAt, parseTimeBytes } from './time-parse.js';

// tsx (how the CLI and the benches run TypeScript) compiles every use of an imported name to a getter call; the row
// loops use these module-level copies instead (the getters were a tenth of a 1M-row import's CPU profile).
const scanNumber = scanDecimalBytes;
const numberEnd = scanEnd;
const timeAt = parseTimeBytes;
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

/**
 * Parses CSV text into columns (times as read, not yet validated). Errors name file, row and column. `ascii`, when
 * given, is the file's bytes and `text` their one-byte decoding (same positions): the fast path then reads cells
 * from the bytes.
 */
export function parseCsv(text: string, opts: ImportOptions = {}, file?: string, ascii?: Uint8Array): ParsedBars {
  if (text.charCodeAt(0) === 0xfeff) {
    text = text.slice(1);
    ascii = undefined;
  }
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
    plan = planColumns(defaultHeaders(firstCells.length), opts.columns, file);
    pending = first;
    pendingLine = lineNo;
  }
  const width = firstCells.length;
  const f = plan.fields;
  const out: PlainColumns = {
    time: new Float64Array(capacity),
    open: new Float64Array(capacity),
    high: new Float64Array(capacity),
    low: new Float64Array(capacity),
    close: new Float64Array(capacity),
    volume: new Float64Array(capacity),
    rowNumbers: new Int32Array(capacity),
  };
  const { time, open, high, low, close, volume, rowNumbers } = out;
  const extraRaw: string[][] = plan.extras.map(() => []);
  const decimalComma = delimiter !== ',';
  let n = 0;

  // The common file (one-character delimiter, no quotes, no extra columns) in one pass over the text without
  // splitting lines into arrays. Anything irregular returns -1 and the general loop below reads the file again,
  // so its messages stay the only ones.
  if (plan.extras.length === 0 && delimiter.length === 1 && text.indexOf('"') < 0) {
    const start = hasHeader ? pos : 0;
    const line0 = hasHeader ? lineNo : 0;
    const fast =
      ascii !== undefined && ascii.length === text.length
        ? parsePlainRowsAscii(
            (a, b) => text.slice(a, b),
            ascii,
            start,
            ascii.length,
            rowCursor(line0, ascii.length),
            plan,
            width,
            delimiter,
            out,
            opts.onProgress,
          )
        : parsePlainRows(text, start, line0, plan, width, delimiter, out, opts.onProgress);
    if (fast > 0) return plainResult(out, fast);
  }

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

// Column names of a file without a header: time, OHLCV, then column_N.
function defaultHeaders(width: number): string[] {
  const defaults = ['time', 'open', 'high', 'low', 'close', 'volume'];
  return Array.from({ length: width }, (_, i) => defaults[i] ?? `column_${i + 1}`);
}

/** Size of the one buffer a chunked CSV read reuses (a row longer than `MAX_LINE_CHARS` never fits anyway). */
export const CSV_CHUNK_BYTES = 1 << 20;

/**
 * Where a chunked CSV read gets its bytes: `read` fills `buf[offset..offset+length)` as far as it can and returns
 * the count (0 at the end, fewer is fine: a pipe gives 64 KiB at a time); `size` is the file's size for the
 * progress figures and the column estimate (0 when unknown). When `kept` is given (a pipe, which cannot be read
 * twice), every byte read is copied into it whenever the read is given up, so the caller can read the rest and
 * hand the whole to `parseCsv`.
 */
export interface CsvByteSource {
  read(buf: Buffer, offset: number, length: number): number;
  size: number;
  kept?: Buffer[];
  /** False for a first chunk this reader must leave alone (a file that may be JSON). */
  accept?: (first: Uint8Array) => boolean;
}

/**
 * `parseCsv` straight from a file's bytes, read in chunks into one reused buffer and parsed where they lie (no
 * decoded string, no copy of the file in fresh memory: this VM pays about 3 µs per first-touched 4 KiB page, so
 * holding a 48 MB file cost as much as parsing a third of it). Only the common file: an ASCII first line without
 * quotes, a one-character delimiter, no extra columns, every row read by the fast path. Null for anything else:
 * the caller then reads the whole file and calls `parseCsv`, which gives the same columns for what this reads and
 * is the only one to report errors. A row cut by a chunk's end is moved to the buffer's front and finished with
 * the next chunk.
 */
export function parseCsvChunks(src: CsvByteSource, opts: ImportOptions = {}, file?: string): ParsedBars | null {
  const buf = Buffer.allocUnsafe(CSV_CHUNK_BYTES);
  let filled = fill(src, buf, 0);
  let eof = filled < buf.length;
  const giveUp = (): null => {
    src.kept?.push(Buffer.from(buf.subarray(0, filled)));
    return null;
  };
  if (src.accept && !src.accept(buf.subarray(0, filled))) return giveUp();
  let pos = 0;
  let lineNo = 0;
  let first: string | undefined;
  while (pos < filled && first === undefined) {
    let nl = buf.indexOf(10, pos);
    if (nl < 0 || nl >= filled) {
      if (!eof) return giveUp();
      nl = filled;
    }
    if (nl - pos > MAX_LINE_CHARS) return giveUp();
    for (let q = pos; q < nl; q++) if (buf[q] > 0x7f) return giveUp();
    let line = buf.toString('latin1', pos, nl);
    pos = nl + 1;
    lineNo++;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.trim().length > 0) first = line;
  }
  if (first === undefined || first.includes('"')) return giveUp();
  const delimiter = opts.delimiter ?? detectDelimiter(first);
  if (delimiter.length !== 1) return giveUp();
  const firstCells = splitLine(first, delimiter);
  if (firstCells.length > MAX_COLUMNS) return giveUp();
  const hasHeader = opts.header ?? looksLikeHeader(firstCells);
  let plan: ColumnPlan;
  try {
    plan = planColumns(hasHeader ? firstCells : defaultHeaders(firstCells.length), opts.columns, file);
  } catch {
    return giveUp();
  }
  if (plan.extras.length !== 0) return giveUp();
  let start = hasHeader ? pos : 0;
  // Capacity from the mean length of rows sampled across the first chunk and the file's size (a pipe: twice the
  // first chunk's rows); the columns grow if the rows are shorter.
  const rowBytes = Math.max(8, meanRowBytes(buf.subarray(0, filled), start));
  const bytes = src.size > 0 ? src.size : 2 * filled;
  const capacity = Math.ceil(((bytes - start) / rowBytes) * 1.05) + 16;
  const out: PlainColumns = {
    time: new Float64Array(capacity),
    open: new Float64Array(capacity),
    high: new Float64Array(capacity),
    low: new Float64Array(capacity),
    close: new Float64Array(capacity),
    volume: new Float64Array(capacity),
    rowNumbers: new Int32Array(capacity),
  };
  // A cell the byte reader leaves to Number(): its text, or '' (irregular) when it is not all ASCII.
  const cell = (a: number, b: number): string => {
    for (let q = a; q < b; q++) if (buf[q] > 0x7f) return '';
    return buf.toString('latin1', a, b);
  };
  const at = rowCursor(hasHeader ? lineNo : 0, src.size);
  for (;;) {
    // Whole rows only: up to the chunk's last newline, or everything at the end of the file.
    let end = filled;
    if (!eof) {
      end = buf.lastIndexOf(10, filled - 1) + 1;
      // No newline in a full buffer: a row far longer than any bar (the general reader names it).
      if (end <= start) return giveUp();
    }
    const n = parsePlainRowsAscii(cell, buf, start, end, at, plan, firstCells.length, delimiter, out, opts.onProgress);
    if (n < 0) return giveUp();
    if (eof) break;
    src.kept?.push(Buffer.from(buf.subarray(0, end)));
    // The cut row to the front; the next chunk after it.
    buf.copyWithin(0, end, filled);
    filled -= end;
    at.base += end;
    start = 0;
    const got = fill(src, buf, filled);
    filled += got;
    eof = filled < buf.length;
  }
  return at.n > 0 ? plainResult(out, at.n) : giveUp();
}

// Reads into `buf[from..]` until it is full or the source ends: the count read.
function fill(src: CsvByteSource, buf: Buffer, from: number): number {
  let at = from;
  while (at < buf.length) {
    const got = src.read(buf, at, buf.length - at);
    if (got <= 0) break;
    at += got;
  }
  return at - from;
}

/** The fast paths' output: the six columns and each row's line number, replaced when they grow. */
// What a fast path read, cut to its `n` rows. When the estimate left at most an eighth of the capacity unused, the
// columns are views of the first `n` rows (copying 1M rows of seven columns was a tenth of an import); otherwise
// copies, so a far too large estimate does not stay allocated. The row numbers are only read by validation: a view.
function plainResult(out: PlainColumns, n: number): ParsedBars {
  const view = out.time.length - n <= out.time.length >> 3;
  const cut = (a: Float64Array): Float64Array => (view ? a.subarray(0, n) : a.slice(0, n));
  const columns: BarColumns = {
    length: n,
    time: cut(out.time),
    open: cut(out.open),
    high: cut(out.high),
    low: cut(out.low),
    close: cut(out.close),
    volume: cut(out.volume),
  };
  return { columns, rowNumbers: out.rowNumbers.subarray(0, n) };
}

type PlainColumns = Record<'time' | 'open' | 'high' | 'low' | 'close' | 'volume', Float64Array> & {
  rowNumbers: Int32Array;
};

// A number cell of the fast path: NaN for anything `parseNumberCell` might read differently or reject.
function plainNumber(text: string, a: number, b: number): number {
  if (b <= a) return Number.NaN;
  // Most cells: read in place, exactly as Number() reads them (NaN: not a plain decimal, use Number()).
  const fast = parseDecimalAt(text, a, b);
  return Number.isNaN(fast) ? numberCell(text.slice(a, b)) : fast;
}

// `plainNumber` of a cell the in-place reader left undecided: Number(), without what parseNumberCell refuses.
function numberCell(s: string): number {
  if (s.length === 0) return Number.NaN;
  const v = +s;
  if (!(v - v === 0)) return Number.NaN;
  // `0x63` (refused by parseNumberCell) and a blank cell (`+" "` is 0) are for the general loop to report.
  const c0 = s.charCodeAt(0);
  if (c0 === 48) return isRadixLiteral(s) ? Number.NaN : v;
  if (c0 <= 32) {
    const t = s.trim();
    if (t.length === 0 || isRadixLiteral(t)) return Number.NaN;
  }
  return v;
}

// Rows from `start` (line number `line0` before it): the count read, or -1 at the first irregular row.
function parsePlainRows(
  text: string,
  start: number,
  line0: number,
  plan: ColumnPlan,
  width: number,
  delimiter: string,
  out: PlainColumns,
  onProgress: ((done: number, total: number) => void) | undefined,
): number {
  const f = plan.fields;
  const len = text.length;
  // starts[k]: first character of cell k; starts[width]: one past the end of the line (as if a delimiter followed).
  const starts = new Int32Array(width + 1);
  let pos = start;
  let line = line0;
  let n = 0;
  while (pos < len) {
    let nl = text.indexOf('\n', pos);
    if (nl < 0) nl = len;
    line++;
    let end = nl;
    if (end - pos > MAX_LINE_CHARS) return -1;
    if (end > pos && text.charCodeAt(end - 1) === 13) end--;
    if (end === pos) {
      pos = nl + 1;
      continue;
    }
    starts[0] = pos;
    let k = 0;
    for (let d = text.indexOf(delimiter, pos); d >= 0 && d < end; d = text.indexOf(delimiter, d + 1)) {
      if (++k >= width) return -1;
      starts[k] = d + 1;
    }
    if (k !== width - 1) return -1;
    starts[width] = end + 1;
    const t = parseTimeAt(text, starts[f.time], starts[f.time + 1] - 1);
    if (Number.isNaN(t)) return -1;
    const o = plainNumber(text, starts[f.open], starts[f.open + 1] - 1);
    const h = plainNumber(text, starts[f.high], starts[f.high + 1] - 1);
    const l = plainNumber(text, starts[f.low], starts[f.low + 1] - 1);
    const c = plainNumber(text, starts[f.close], starts[f.close + 1] - 1);
    const v = f.volume >= 0 ? plainNumber(text, starts[f.volume], starts[f.volume + 1] - 1) : 0;
    if (Number.isNaN(o + h + l + c + v)) return -1;
    out.time[n] = t;
    out.open[n] = o;
    out.high[n] = h;
    out.low[n] = l;
    out.close[n] = c;
    out.volume[n] = v;
    out.rowNumbers[n] = line;
    n++;
    if (onProgress && (n & 0xffff) === 0) onProgress(nl, len);
    pos = nl + 1;
  }
  return n;
}

function unquote(s: string): string {
  const t = s.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1) : t;
}

// `parsePlainRows` over the file's bytes (`buf[k]` is `text.charCodeAt(k)` where the text is known): one pass per
// row, each number read where it lies while the scan moves on (no string per cell, no search for the row's end
// first: the last cell's reader stops at it); a cell the byte reader does not decide goes through Number() on its
// text, which `cell(a, b)` gives ('' for a cell that is not all ASCII: then the row is irregular). A row the fast
// pass finds anything unusual in is read again the careful way. Same results, same -1 at the first irregular row
// (a quote anywhere is irregular). `out` grows by doubling when the rows outnumber its capacity.
function parsePlainRowsAscii(
  cell: (a: number, b: number) => string,
  buf: Uint8Array,
  start: number,
  len: number,
  at: RowCursor,
  plan: ColumnPlan,
  width: number,
  delimiter: string,
  out: PlainColumns,
  onProgress: ((done: number, total: number) => void) | undefined,
): number {
  const f = plan.fields;
  const delim = delimiter.charCodeAt(0);
  if (delim === 45 || delim === 46 || delim === 34 || (delim >= 48 && delim <= 57) || delim === 10 || delim === 13) {
    return -1;
  }
  // role[k]: what column k holds: 0 time, 1-5 open/high/low/close/volume, -1 nothing read.
  const role = new Int8Array(width).fill(-1);
  role[f.time] = 0;
  role[f.open] = 1;
  role[f.high] = 2;
  role[f.low] = 3;
  role[f.close] = 4;
  if (f.volume >= 0) role[f.volume] = 5;
  let roles = 0;
  for (let k = 0; k < width; k++) if (role[k] >= 0) roles++;
  // Two fields on one column (or a field outside the row): the general loop reads it.
  if (roles !== (f.volume >= 0 ? 6 : 5) || role.length !== width) return -1;
  const vals = at.vals;
  const last = width - 1;
  let pos = start;
  let line = at.line;
  let n = at.n;
  while (pos < len) {
    line++;
    // The fast pass: cells up to the first byte that cannot continue them; the row ends at \n, \r\n or the end.
    let p = pos;
    let nl = -1;
    for (let k = 0; k < width; k++) {
      const r = role[k];
      let cellEnd: number;
      if (r >= 1) {
        const v = scanNumber(buf, p, len);
        if (Number.isNaN(v)) break;
        vals[r] = v;
        cellEnd = numberEnd[0];
      } else {
        cellEnd = p;
        let c = 0;
        while (cellEnd < len && (c = buf[cellEnd]) !== delim && c !== 10 && c !== 13 && c !== 34) cellEnd++;
        if (c === 34) return -1;
        if (r === 0) {
          const t = timeAt(buf, p, cellEnd, cell);
          if (Number.isNaN(t)) break;
          vals[0] = t;
        }
      }
      if (k < last) {
        if (cellEnd >= len || buf[cellEnd] !== delim) break;
        p = cellEnd + 1;
      } else if (cellEnd === len || buf[cellEnd] === 10) nl = cellEnd;
      else if (buf[cellEnd] === 13 && (cellEnd + 1 === len || buf[cellEnd + 1] === 10)) nl = cellEnd + 1;
    }
    if (nl < 0) {
      // Anything unusual (an empty line, a cell the byte reader left undecided, a stray \r): the careful way.
      nl = buf.indexOf(10, pos);
      // Past `len` lie the bytes of an earlier chunk.
      if (nl < 0 || nl > len) nl = len;
      let end = nl;
      if (end - pos > MAX_LINE_CHARS) return -1;
      if (end > pos && buf[end - 1] === 13) end--;
      if (end === pos) {
        pos = nl + 1;
        continue;
      }
      if (!readRowCarefully(cell, buf, pos, end, delim, role, vals)) return -1;
    } else if (nl - pos > MAX_LINE_CHARS) return -1;
    if (n === out.time.length) growColumns(out);
    out.time[n] = vals[0];
    out.open[n] = vals[1];
    out.high[n] = vals[2];
    out.low[n] = vals[3];
    out.close[n] = vals[4];
    out.volume[n] = f.volume >= 0 ? vals[5] : 0;
    out.rowNumbers[n] = line;
    n++;
    if (onProgress && (n & 0xffff) === 0) onProgress(at.base + nl, Math.max(at.total, at.base + len));
    pos = nl + 1;
  }
  at.line = line;
  at.n = n;
  return n;
}

/**
 * Where `parsePlainRowsAscii` stands between calls (one call per chunk): rows read, the last line number, and the
 * file offset of the chunk's first byte with the file's size (for progress; 0 when unknown, as from a pipe).
 */
interface RowCursor {
  n: number;
  line: number;
  base: number;
  total: number;
  vals: Float64Array;
}

function rowCursor(line: number, total: number): RowCursor {
  return { n: 0, line, base: 0, total, vals: new Float64Array(6) };
}

// One row `buf[pos..end)` (its \r\n cut off) into `vals`, each cell bounded by the row: false when irregular.
function readRowCarefully(
  cell: (a: number, b: number) => string,
  buf: Uint8Array,
  pos: number,
  end: number,
  delim: number,
  role: Int8Array,
  vals: Float64Array,
): boolean {
  const width = role.length;
  let p = pos;
  for (let k = 0; k < width; k++) {
    const r = role[k];
    let cellEnd: number;
    if (r >= 1) {
      const v = scanNumber(buf, p, end);
      cellEnd = numberEnd[0];
      if (!Number.isNaN(v) && (cellEnd === end || buf[cellEnd] === delim)) vals[r] = v;
      else {
        cellEnd = cellEndAt(buf, p, end, delim);
        const w = numberCell(cell(p, cellEnd));
        if (Number.isNaN(w)) return false;
        vals[r] = w;
      }
    } else {
      cellEnd = cellEndAt(buf, p, end, delim);
      for (let q = p; q < cellEnd; q++) if (buf[q] === 34) return false;
      if (r === 0) {
        const t = timeAt(buf, p, cellEnd, cell);
        if (Number.isNaN(t)) return false;
        vals[0] = t;
      }
    }
    if (k < width - 1) {
      if (cellEnd >= end) return false;
      p = cellEnd + 1;
    } else if (cellEnd !== end) return false;
  }
  return true;
}

// Doubles the capacity of the fast path's columns (their first rows kept).
function growColumns(out: PlainColumns): void {
  const cap = Math.max(16, out.time.length * 2);
  const f64 = (a: Float64Array): Float64Array => {
    const b = new Float64Array(cap);
    b.set(a);
    return b;
  };
  out.time = f64(out.time);
  out.open = f64(out.open);
  out.high = f64(out.high);
  out.low = f64(out.low);
  out.close = f64(out.close);
  out.volume = f64(out.volume);
  const rows = new Int32Array(cap);
  rows.set(out.rowNumbers);
  out.rowNumbers = rows;
}

// Mean length (newline included) of up to 64 rows sampled at even steps through `buf[start..]`: the first row
// alone can be much shorter than the rest (an opening price of 100 beside 17-digit ones).
function meanRowBytes(buf: Uint8Array, start: number): number {
  const len = buf.length;
  const probes = 64;
  const step = Math.max(1, Math.floor((len - start) / probes));
  let bytes = 0;
  let rows = 0;
  for (let k = 0; k < probes; k++) {
    // The row starting at `start`, else the first row after the probe position.
    let a = start + k * step;
    if (a >= len) break;
    if (k > 0) {
      const nl = buf.indexOf(10, a);
      if (nl < 0) break;
      a = nl + 1;
    }
    let b = buf.indexOf(10, a);
    if (b < 0) b = len;
    if (b <= a) continue;
    bytes += b - a + 1;
    rows++;
  }
  return rows === 0 ? len - start + 1 : bytes / rows;
}

// End of the cell starting at `p`: the next delimiter before `end`, else `end`.
function cellEndAt(buf: Uint8Array, p: number, end: number, delim: number): number {
  while (p < end && buf[p] !== delim) p++;
  return p;
}
