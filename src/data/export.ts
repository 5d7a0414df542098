import { extname } from 'node:path';
import type { BarColumns } from '../core/index.js';
import { writeAll, writeFileAtomic } from './atomic-file.js';
import { formatTime } from './time-parse.js';

const CHUNK_ROWS = 20_000;

/** Progress callback: rows written so far out of the total. */
export type ProgressFn = (done: number, total: number) => void;

function allMidnight(time: Float64Array): boolean {
  for (let i = 0; i < time.length; i++) if (time[i] % 86_400_000 !== 0) return false;
  return true;
}

function csvCell(s: string): string {
  return /[",\n\r;|\t]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function num(v: number): string {
  return Number.isNaN(v) ? '' : String(v);
}

/** Yields the CSV text in chunks: header `time,open,high,low,close,volume[,extras...]`, times ISO-8601 UTC. */
function* csvChunks(c: BarColumns): Generator<[string, number]> {
  const extra = Object.entries(c.extra ?? {});
  const text = Object.entries(c.extraText ?? {});
  const dateOnly = allMidnight(c.time);
  yield [
    `${['time', 'open', 'high', 'low', 'close', 'volume', ...extra.map((e) => e[0]), ...text.map((e) => e[0])].map(csvCell).join(',')}\n`,
    0,
  ];
  for (let from = 0; from < c.length; from += CHUNK_ROWS) {
    const to = Math.min(c.length, from + CHUNK_ROWS);
    const lines: string[] = [];
    for (let i = from; i < to; i++) {
      let line = `${formatTime(c.time[i], dateOnly)},${num(c.open[i])},${num(c.high[i])},${num(c.low[i])},${num(c.close[i])},${num(c.volume[i])}`;
      for (const [, col] of extra) line += `,${num(col[i])}`;
      for (const [, col] of text) line += `,${csvCell(col[i] ?? '')}`;
      lines.push(line);
    }
    yield [`${lines.join('\n')}\n`, to];
  }
}

/** Formats columns as CSV (full precision numbers, empty cell for NaN). */
export function writeCsv(c: BarColumns): string {
  let out = '';
  for (const [chunk] of csvChunks(c)) out += chunk;
  return out;
}

/** Writes columns as a CSV file atomically (temp file, fsync, rename), streaming in chunks. */
export function writeCsvFile(path: string, c: BarColumns, onProgress?: ProgressFn): void {
  writeFileAtomic(path, (fd) => {
    for (const [chunk, done] of csvChunks(c)) {
      writeAll(fd, Buffer.from(chunk, 'utf8'));
      onProgress?.(done, c.length);
    }
  });
}

/** Writes columns as a JSON array of `{time, open, high, low, close, volume, ...extras}` objects, atomically. */
export function writeJsonFile(path: string, c: BarColumns, onProgress?: ProgressFn): void {
  const extra = Object.entries(c.extra ?? {});
  const text = Object.entries(c.extraText ?? {});
  const dateOnly = allMidnight(c.time);
  writeFileAtomic(path, (fd) => {
    writeAll(fd, Buffer.from('['));
    for (let from = 0; from < c.length; from += CHUNK_ROWS) {
      const to = Math.min(c.length, from + CHUNK_ROWS);
      const parts: string[] = [];
      for (let i = from; i < to; i++) {
        const row: Record<string, string | number | null> = {
          time: formatTime(c.time[i], dateOnly),
          open: c.open[i],
          high: c.high[i],
          low: c.low[i],
          close: c.close[i],
          volume: c.volume[i],
        };
        for (const [k, col] of extra) row[k] = Number.isNaN(col[i]) ? null : col[i];
        for (const [k, col] of text) row[k] = col[i] ?? '';
        parts.push(JSON.stringify(row));
      }
      writeAll(fd, Buffer.from(`${from > 0 ? ',\n' : '\n'}${parts.join(',\n')}`, 'utf8'));
      onProgress?.(to, c.length);
    }
    writeAll(fd, Buffer.from('\n]\n'));
  });
}

/** Writes CSV, or JSON when the path ends in `.json`. */
export function writeBarsFile(path: string, c: BarColumns, onProgress?: ProgressFn): void {
  if (extname(path).toLowerCase() === '.json') writeJsonFile(path, c, onProgress);
  else writeCsvFile(path, c, onProgress);
}
