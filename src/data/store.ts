import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { endianness } from 'node:os';
import { join } from 'node:path';
import { type BarColumns, DataError, parseTimeframe, type Timeframe, ValidationError } from '../core/index.js';
import { echoValue } from '../core/errors.js';
import { TEMP_SUFFIX, writeAll, writeFileAtomic } from './atomic-file.js';
import { formatTime } from './time-parse.js';

/** File extension of store files. */
export const STORE_EXT = '.tfb';
/** Version of the binary layout; readers refuse other versions. */
export const STORE_SCHEMA_VERSION = 1;

const MAGIC = Buffer.from('TFBARS\0\0', 'latin1');
const FIXED_HEADER = 40;
const BASE_COLUMNS = ['time', 'open', 'high', 'low', 'close', 'volume'] as const;

/** One stored series as listed by `MarketDataStore.list`. */
export interface StoredSeries {
  symbol: string;
  timeframe: Timeframe;
  rows: number;
  /** First and last bar time (epoch ms). */
  from: number;
  to: number;
  bytes: number;
  file: string;
}

interface Meta {
  symbol: string;
  timeframe: Timeframe;
  columns: string[];
  text: string[];
  textBytes: number;
}

interface Header {
  meta: Meta;
  rows: number;
  headerBytes: number;
}

/** Longest symbol accepted (exchange symbols are far shorter; a longer one is a mistake or an attack). */
export const MAX_SYMBOL_CHARS = 64;
/** Longest encoded symbol: with the timeframe and extension it stays inside a 255-byte file name. */
const MAX_ENCODED_CHARS = 200;

/** Encodes a symbol for a file name: letters, digits, `.`, `-`, `_` stay, anything else (e.g. `/`) becomes %XX. */
export function encodeSymbol(symbol: string): string {
  if (symbol.length === 0 || symbol.length > MAX_SYMBOL_CHARS || /[\p{Cc}]/u.test(symbol)) {
    throw new ValidationError(
      `invalid symbol ${echoValue(symbol)}: 1 to ${MAX_SYMBOL_CHARS} characters, no control characters`,
      'symbol',
    );
  }
  const encoded = Array.from(Buffer.from(symbol, 'utf8'))
    .map((b) => {
      const ch = String.fromCharCode(b);
      return /[A-Za-z0-9._-]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
    })
    .join('');
  if (encoded.length > MAX_ENCODED_CHARS) {
    throw new ValidationError(
      `invalid symbol ${echoValue(symbol)}: too long once encoded as a file name (use ASCII letters and digits)`,
      'symbol',
    );
  }
  return encoded;
}

/**
 * The columnar market-data store: one file `<SYMBOL>_<TF>.tfb` per symbol and timeframe holding a small header
 * (magic, schema version, row count, column names) padded to 8 bytes, then one Float64 column after another.
 * Reads map the columns as Float64Array views over a single buffer (no per-row work); writes are atomic.
 */
export class MarketDataStore {
  constructor(readonly dir: string) {
    if (endianness() !== 'LE') throw new Error('the market data store needs a little-endian machine');
  }

  /** Path of the file holding `symbol` at `tf`. */
  pathOf(symbol: string, tf: Timeframe): string {
    return join(this.dir, `${encodeSymbol(symbol)}_${parseTimeframe(tf)}${STORE_EXT}`);
  }

  /** True when the series exists. */
  has(symbol: string, tf: Timeframe): boolean {
    return existsSync(this.pathOf(symbol, tf));
  }

  /** Replaces the series with `c` (times must be strictly ascending). Atomic. Returns the file written. */
  write(symbol: string, tf: Timeframe, c: BarColumns): string {
    const path = this.pathOf(symbol, tf);
    checkAscending(c, path);
    const extraNames = Object.keys(c.extra ?? {});
    const textNames = Object.keys(c.extraText ?? {});
    const text = textNames.length
      ? Buffer.from(JSON.stringify(textNames.map((k) => c.extraText?.[k])), 'utf8')
      : Buffer.alloc(0);
    const meta: Meta = {
      symbol,
      timeframe: tf,
      columns: [...BASE_COLUMNS, ...extraNames],
      text: textNames,
      textBytes: text.byteLength,
    };
    const metaBytes = Buffer.from(JSON.stringify(meta), 'utf8');
    const headerBytes = Math.ceil((FIXED_HEADER + metaBytes.byteLength) / 8) * 8;
    const header = Buffer.alloc(headerBytes);
    MAGIC.copy(header, 0);
    header.writeUInt32LE(STORE_SCHEMA_VERSION, 8);
    header.writeUInt32LE(headerBytes, 12);
    header.writeDoubleLE(c.length, 16);
    header.writeUInt32LE(meta.columns.length, 24);
    header.writeUInt32LE(0x01020304, 28);
    header.writeUInt32LE(metaBytes.byteLength, 32);
    metaBytes.copy(header, FIXED_HEADER);
    const cols: Float64Array[] = [
      c.time,
      c.open,
      c.high,
      c.low,
      c.close,
      c.volume,
      ...extraNames.map((k) => c.extra![k]),
    ];
    writeFileAtomic(path, (fd) => {
      writeAll(fd, header);
      for (const col of cols) {
        if (col.length !== c.length) throw new ValidationError(`column lengths differ (${col.length} vs ${c.length})`);
        writeAll(fd, new Uint8Array(col.buffer, col.byteOffset, c.length * 8));
      }
      writeAll(fd, text);
    });
    return path;
  }

  /**
   * Appends bars newer than the last stored one (an incremental update). Overlapping or out-of-order rows are a
   * DataError unless `skipExisting`, which drops rows at or before the last stored time. Atomic.
   */
  append(
    symbol: string,
    tf: Timeframe,
    c: BarColumns,
    opts: { skipExisting?: boolean } = {},
  ): { appended: number; rows: number } {
    if (!this.has(symbol, tf)) {
      this.write(symbol, tf, c);
      return { appended: c.length, rows: c.length };
    }
    const old = this.read(symbol, tf);
    const path = this.pathOf(symbol, tf);
    const last = old.time[old.length - 1];
    let start = 0;
    if (opts.skipExisting) while (start < c.length && c.time[start] <= last) start++;
    else if (c.length > 0 && c.time[0] <= last) {
      throw new DataError(
        `appended bar ${formatTime(c.time[0])} is not after the last stored bar ${formatTime(last)}`,
        { file: path, row: 1, column: 'time' },
      );
    }
    const add = c.length - start;
    if (add === 0) return { appended: 0, rows: old.length };
    const oldExtra = Object.keys(old.extra ?? {})
      .sort()
      .join(',');
    const newExtra = Object.keys(c.extra ?? {})
      .sort()
      .join(',');
    const oldText = Object.keys(old.extraText ?? {})
      .sort()
      .join(',');
    const newText = Object.keys(c.extraText ?? {})
      .sort()
      .join(',');
    if (oldExtra !== newExtra || oldText !== newText) {
      throw new DataError(`appended columns [${newExtra || newText}] differ from the stored [${oldExtra || oldText}]`, {
        file: path,
      });
    }
    const n = old.length + add;
    const cat = (a: Float64Array, b: Float64Array): Float64Array => {
      const out = new Float64Array(n);
      out.set(a);
      out.set(b.subarray(start), a.length);
      return out;
    };
    const merged: BarColumns = {
      length: n,
      time: cat(old.time, c.time),
      open: cat(old.open, c.open),
      high: cat(old.high, c.high),
      low: cat(old.low, c.low),
      close: cat(old.close, c.close),
      volume: cat(old.volume, c.volume),
      ...(old.extra
        ? { extra: Object.fromEntries(Object.entries(old.extra).map(([k, v]) => [k, cat(v, c.extra![k])])) }
        : {}),
      ...(old.extraText
        ? {
            extraText: Object.fromEntries(
              Object.entries(old.extraText).map(([k, v]) => [k, [...v, ...c.extraText![k].slice(start)]]),
            ),
          }
        : {}),
    };
    this.write(symbol, tf, merged);
    return { appended: add, rows: n };
  }

  /**
   * Loads a series. The file is read into one buffer and each column is a Float64Array view over it, so loading
   * costs one read. `range` keeps bars with from <= time <= to (views, no copy). A missing, truncated or corrupt
   * file is a DataError naming the file.
   */
  read(symbol: string, tf: Timeframe, range: { from?: number; to?: number } = {}): BarColumns {
    const path = this.pathOf(symbol, tf);
    if (!existsSync(path)) {
      throw new DataError(`no stored data for ${symbol} ${tf} (import it with \`tradeforge data import\`)`, {
        file: path,
      });
    }
    return sliceRange(readStoreFile(path), range);
  }

  /** Every stored series with its row count and time range, sorted by symbol then timeframe. */
  list(): StoredSeries[] {
    if (!existsSync(this.dir)) return [];
    const out: StoredSeries[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith(STORE_EXT) || name.endsWith(TEMP_SUFFIX)) continue;
      const file = join(this.dir, name);
      const fd = openSync(file, 'r');
      try {
        const size = statSync(file).size;
        const h = readHeaderFd(fd, size, file);
        const first = Buffer.alloc(8);
        const last = Buffer.alloc(8);
        if (h.rows > 0) {
          readSync(fd, first, 0, 8, h.headerBytes);
          readSync(fd, last, 0, 8, h.headerBytes + (h.rows - 1) * 8);
        }
        out.push({
          symbol: h.meta.symbol,
          timeframe: h.meta.timeframe,
          rows: h.rows,
          from: h.rows > 0 ? first.readDoubleLE(0) : Number.NaN,
          to: h.rows > 0 ? last.readDoubleLE(0) : Number.NaN,
          bytes: size,
          file,
        });
      } finally {
        closeSync(fd);
      }
    }
    return out.sort((a, b) => a.symbol.localeCompare(b.symbol) || a.timeframe.localeCompare(b.timeframe));
  }

  /** Timeframes stored for `symbol`. */
  timeframes(symbol: string): Timeframe[] {
    return this.list()
      .filter((s) => s.symbol === symbol)
      .map((s) => s.timeframe);
  }

  /** Deletes the series; returns whether it existed. */
  delete(symbol: string, tf: Timeframe): boolean {
    const path = this.pathOf(symbol, tf);
    if (!existsSync(path)) return false;
    rmSync(path);
    return true;
  }
}

function checkAscending(c: BarColumns, file: string): void {
  for (let i = 1; i < c.length; i++) {
    if (!(c.time[i] > c.time[i - 1])) {
      throw new DataError(
        `times must be strictly ascending (${formatTime(c.time[i])} after ${formatTime(c.time[i - 1])})`,
        {
          file,
          row: i + 1,
          column: 'time',
        },
      );
    }
  }
}

function parseHeader(buf: Buffer, size: number, file: string): Header {
  const corrupt = (why: string): DataError => new DataError(`corrupt market data file: ${why}`, { file });
  if (buf.byteLength < FIXED_HEADER || !buf.subarray(0, 8).equals(MAGIC)) throw corrupt('bad magic (not a .tfb file)');
  const version = buf.readUInt32LE(8);
  if (version !== STORE_SCHEMA_VERSION) throw corrupt(`schema version ${version}, expected ${STORE_SCHEMA_VERSION}`);
  const headerBytes = buf.readUInt32LE(12);
  const rows = buf.readDoubleLE(16);
  const ncols = buf.readUInt32LE(24);
  const metaLen = buf.readUInt32LE(32);
  if (buf.readUInt32LE(28) !== 0x01020304) throw corrupt('wrong byte order');
  if (headerBytes % 8 !== 0 || FIXED_HEADER + metaLen > headerBytes || headerBytes > buf.byteLength) {
    throw corrupt('truncated header');
  }
  if (!Number.isSafeInteger(rows) || rows < 0) throw corrupt('bad row count');
  let meta: Meta;
  try {
    meta = JSON.parse(buf.toString('utf8', FIXED_HEADER, FIXED_HEADER + metaLen)) as Meta;
  } catch {
    throw corrupt('unreadable header');
  }
  if (!Array.isArray(meta.columns) || meta.columns.length !== ncols || !Array.isArray(meta.text)) {
    throw corrupt('column list does not match the header');
  }
  const expected = headerBytes + ncols * rows * 8 + (meta.textBytes ?? 0);
  if (size !== expected) throw corrupt(`size ${size} bytes, expected ${expected} (truncated or torn write)`);
  return { meta, rows, headerBytes };
}

function readHeaderFd(fd: number, size: number, file: string): Header {
  const head = Buffer.alloc(Math.min(size, 64 * 1024));
  readSync(fd, head, 0, head.byteLength, 0);
  return parseHeader(head, size, file);
}

/** Reads and maps one store file (see `MarketDataStore.read`). */
export function readStoreFile(file: string): BarColumns {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new DataError(`cannot read market data file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { file });
  }
  // Float64Array views need 8-byte aligned offsets; small buffers may come from Node's shared pool.
  if (buf.byteOffset % 8 !== 0) buf = Buffer.from(new Uint8Array(buf));
  const { meta, rows, headerBytes } = parseHeader(buf, buf.byteLength, file);
  const view = (k: number): Float64Array =>
    new Float64Array(buf.buffer, buf.byteOffset + headerBytes + k * rows * 8, rows);
  const extra: Record<string, Float64Array> = {};
  for (let k = BASE_COLUMNS.length; k < meta.columns.length; k++) extra[meta.columns[k]] = view(k);
  let extraText: Record<string, string[]> | undefined;
  if (meta.text.length > 0) {
    const start = headerBytes + meta.columns.length * rows * 8;
    try {
      const arrays = JSON.parse(buf.toString('utf8', start, start + meta.textBytes)) as string[][];
      extraText = Object.fromEntries(meta.text.map((k, i) => [k, arrays[i]]));
    } catch {
      throw new DataError('corrupt market data file: unreadable text columns', { file });
    }
  }
  return {
    length: rows,
    time: view(0),
    open: view(1),
    high: view(2),
    low: view(3),
    close: view(4),
    volume: view(5),
    ...(Object.keys(extra).length ? { extra } : {}),
    ...(extraText ? { extraText } : {}),
  };
}

/** First index whose time is >= t (or > t when `after`). */
function bound(time: Float64Array, t: number, after: boolean): number {
  let lo = 0;
  let hi = time.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (time[mid] < t || (after && time[mid] === t)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Rows with from <= time <= to, as views over the same memory. */
export function sliceRange(c: BarColumns, range: { from?: number; to?: number }): BarColumns {
  if (range.from === undefined && range.to === undefined) return c;
  const a = range.from === undefined ? 0 : bound(c.time, range.from, false);
  const b = range.to === undefined ? c.length : bound(c.time, range.to, true);
  const sub = (x: Float64Array): Float64Array => x.subarray(a, Math.max(a, b));
  return {
    length: Math.max(0, b - a),
    time: sub(c.time),
    open: sub(c.open),
    high: sub(c.high),
    low: sub(c.low),
    close: sub(c.close),
    volume: sub(c.volume),
    ...(c.extra ? { extra: Object.fromEntries(Object.entries(c.extra).map(([k, v]) => [k, sub(v)])) } : {}),
    ...(c.extraText
      ? { extraText: Object.fromEntries(Object.entries(c.extraText).map(([k, v]) => [k, v.slice(a, Math.max(a, b))])) }
      : {}),
  };
}
