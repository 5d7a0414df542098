import { isAscii } from 'node:buffer';
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { DataError } from '../core/index.js';
import { parseCsv, parseCsvChunks } from './parse-csv.js';
import { parseJson } from './parse-json.js';
import type { ParsedBars } from './parsed-bars.js';
import { applyPolicy } from './policy.js';
import type { ImportOptions, ImportResult } from './types.js';
import { inferTimeframe, validateBars } from './validate.js';

/**
 * Parses CSV or JSON text (format from `opts.format`, else by content: `[` or `{` means JSON), validates it and
 * applies the policy (default 'reject'). `file` is only used in messages.
 */
export function importText(text: string, opts: ImportOptions = {}, file?: string, ascii?: Uint8Array): ImportResult {
  const trimmed = text.trimStart();
  const format = opts.format ?? (trimmed.startsWith('[') || trimmed.startsWith('{') ? 'json' : 'csv');
  const parsed: ParsedBars = format === 'json' ? parseJson(text, opts, file) : parseCsv(text, opts, file, ascii);
  return finishImport(parsed, opts, file);
}

/** Validates parsed bars and applies the policy (default 'reject'): the common end of every import. */
export function finishImport(parsed: ParsedBars, opts: ImportOptions = {}, file?: string): ImportResult {
  const timeframe = opts.timeframe ?? inferTimeframe(parsed.columns.time);
  const report = validateBars(parsed.columns, {
    ...(timeframe ? { timeframe } : {}),
    ...opts.validation,
    rowNumbers: parsed.rowNumbers,
    ...(file ? { file } : {}),
  });
  const policy = opts.policy ?? 'reject';
  const columns = policy === 'none' ? parsed.columns : applyPolicy(parsed.columns, report, policy);
  return { columns, timeframe, report };
}

/**
 * Reads a CSV or JSON bar file (by extension, else by content), a regular file or a pipe. The common CSV is read in
 * 1 MiB chunks into one reused buffer and parsed in place; anything else is read whole. Errors are one-line
 * DataErrors naming the file.
 */
export function importFile(path: string, opts: ImportOptions = {}): ImportResult {
  const ext = extname(path).toLowerCase();
  const format = opts.format ?? (ext === '.json' ? 'json' : ext === '.csv' || ext === '.tsv' ? 'csv' : undefined);
  let fd: number;
  let size = 0;
  let regular = true;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new DataError('is a directory, not a data file', { file: path });
    regular = st.isFile();
    size = regular ? st.size : 0;
    fd = openSync(path, 'r');
  } catch (err) {
    throw readError(err, path);
  }
  let bytes: Buffer;
  try {
    // A pipe cannot be read twice: what the chunked reader read before giving up is kept for the second reader.
    const kept: Buffer[] | undefined = regular ? undefined : [];
    if (format !== 'json') {
      const parsed = parseCsvChunks(
        {
          read: (buf, offset, length) => readSync(fd, buf, offset, length, null),
          size,
          ...(kept ? { kept } : {}),
          ...(format === undefined ? { accept: (first: Uint8Array) => !startsLikeJson(first) } : {}),
        },
        opts,
        path,
      );
      if (parsed !== null) return finishImport(parsed, opts, path);
    }
    bytes = kept ? Buffer.concat([...kept, readRest(fd)]) : readFileSync(path);
  } catch (err) {
    throw readError(err, path);
  } finally {
    closeSync(fd);
  }
  // An ASCII file (most CSVs) decodes as Latin-1: a plain copy into a one-byte string, where UTF-8 decoding
  // validates every byte (the larger part of reading a 100 MB file).
  const ascii = isAscii(bytes) ? bytes : undefined;
  const text = ascii !== undefined ? bytes.toString('latin1') : bytes.toString('utf8');
  return importText(text, { ...opts, ...(format ? { format } : {}) }, path, ascii);
}

// The one-line error for a file that cannot be opened or read (a DataError passes through).
function readError(err: unknown, path: string): Error {
  if (err instanceof DataError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : `cannot read (${code})`;
  return new DataError(why, { file: path });
}

// Everything left in `fd` up to its end (a pipe's rest).
function readRest(fd: number): Buffer {
  const parts: Buffer[] = [];
  for (;;) {
    const buf = Buffer.allocUnsafe(1 << 16);
    const got = readSync(fd, buf, 0, buf.length, null);
    if (got <= 0) break;
    parts.push(buf.subarray(0, got));
  }
  return Buffer.concat(parts);
}

// The first byte after ASCII whitespace is `[` or `{` (what importText takes for JSON).
function startsLikeJson(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 32 || (bytes[i] >= 9 && bytes[i] <= 13))) i++;
  return bytes[i] === 91 || bytes[i] === 123;
}
