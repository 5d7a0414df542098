import { isAscii } from 'node:buffer';
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { DataError } from '../core/index.js';
import { parseCsv, parseCsvBytes } from './parse-csv.js';
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

/** Reads a CSV or JSON bar file (by extension, else by content). Errors are one-line DataErrors naming the file. */
export function importFile(path: string, opts: ImportOptions = {}): ImportResult {
  let bytes: Buffer;
  try {
    if (statSync(path).isDirectory()) throw new DataError('is a directory, not a data file', { file: path });
    bytes = readFileSync(path);
  } catch (err) {
    if (err instanceof DataError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : `cannot read (${code})`;
    throw new DataError(why, { file: path });
  }
  const ext = extname(path).toLowerCase();
  const format = opts.format ?? (ext === '.json' ? 'json' : ext === '.csv' || ext === '.tsv' ? 'csv' : undefined);
  // The common CSV straight from the bytes; anything it declines is decoded and read as before.
  if (format === 'csv' || (format === undefined && !startsLikeJson(bytes))) {
    const parsed = parseCsvBytes(bytes, opts, path);
    if (parsed !== null) return finishImport(parsed, opts, path);
  }
  // An ASCII file (most CSVs) decodes as Latin-1: a plain copy into a one-byte string, where UTF-8 decoding
  // validates every byte (the larger part of reading a 100 MB file).
  const ascii = isAscii(bytes) ? bytes : undefined;
  const text = ascii !== undefined ? bytes.toString('latin1') : bytes.toString('utf8');
  return importText(text, { ...opts, ...(format ? { format } : {}) }, path, ascii);
}

// The first byte after ASCII whitespace is `[` or `{` (what importText takes for JSON).
function startsLikeJson(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 32 || (bytes[i] >= 9 && bytes[i] <= 13))) i++;
  return bytes[i] === 91 || bytes[i] === 123;
}
