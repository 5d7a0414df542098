import { isAscii } from 'node:buffer';
import { readFileSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import { DataError } from '../core/index.js';
import { parseCsv } from './parse-csv.js';
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
  let text: string;
  let ascii: Uint8Array | undefined;
  try {
    if (statSync(path).isDirectory()) throw new DataError('is a directory, not a data file', { file: path });
    const bytes = readFileSync(path);
    // An ASCII file (most CSVs) decodes as Latin-1: a plain copy into a one-byte string, where UTF-8 decoding
    // validates every byte (the larger part of reading a 100 MB file).
    ascii = isAscii(bytes) ? bytes : undefined;
    text = ascii !== undefined ? bytes.toString('latin1') : bytes.toString('utf8');
  } catch (err) {
    if (err instanceof DataError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'file not found' : code === 'EACCES' ? 'permission denied' : `cannot read (${code})`;
    throw new DataError(why, { file: path });
  }
  const ext = extname(path).toLowerCase();
  const format = opts.format ?? (ext === '.json' ? 'json' : ext === '.csv' || ext === '.tsv' ? 'csv' : undefined);
  return importText(text, { ...opts, ...(format ? { format } : {}) }, path, ascii);
}
