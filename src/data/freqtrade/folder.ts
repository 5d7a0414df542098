import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DataError } from '../../core/errors.js';
import { TIMEFRAMES, type Timeframe } from '../../core/timeframe.js';
import { finishImport, importText } from '../import.js';
import type { ImportOptions, ImportResult } from '../types.js';
import { readFreqtradeFeather } from './feather.js';

/** One of Freqtrade's candle files (`BTC_USDT-5m.json`, `ETH_BTC-1h.feather`, `BTC_USDT-1d.json.gz`). */
export interface FreqtradeDataFile {
  path: string;
  /** The pair as Freqtrade names it (`BTC/USDT`; `BTC/USDT:USDT` for a futures file). */
  pair: string;
  /** The timeframe as written in the name (`5m`); `supported` says whether we store it. */
  timeframe: string;
  supported: boolean;
  format: 'json' | 'jsongz' | 'feather';
}

const NAME = /^(.+)-(\d+[smhdwM])(?:-(futures|mark|index|premiumIndex|funding_rate))?\.(json|json\.gz|feather)$/;

/**
 * Reads Freqtrade's file name back into pair, timeframe and format. Freqtrade writes a pair with `/` (and
 * `:` of futures) as `_`, so the first `_` is the `/` and a second one the `:` of a futures pair. Other names
 * (trades files, parquet) give undefined.
 */
export function parseFreqtradeFileName(name: string): Omit<FreqtradeDataFile, 'path'> | undefined {
  const m = NAME.exec(name);
  if (!m || name.includes('-trades')) return undefined;
  const parts = m[1].split('_');
  if (parts.length < 2) return undefined;
  const futures = m[3] !== undefined;
  const pair =
    futures && parts.length >= 3
      ? `${parts[0]}/${parts[1]}:${parts.slice(2).join('_')}`
      : `${parts[0]}/${parts.slice(1).join('_')}`;
  const ext = m[4];
  return {
    pair,
    timeframe: m[2],
    supported: (TIMEFRAMES as readonly string[]).includes(m[2]),
    format: ext === 'json' ? 'json' : ext === 'json.gz' ? 'jsongz' : 'feather',
  };
}

/**
 * Lists the candle files of a Freqtrade data folder (`user_data/data/<exchange>/`, and its `futures/`
 * subfolder), sorted by pair, timeframe and format. A folder with none is a DataError.
 */
export function listFreqtradeData(dir: string): FreqtradeDataFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? 'folder not found' : `cannot read the folder (${code})`, { file: dir });
  }
  const files: FreqtradeDataFile[] = [];
  const scan = (folder: string, list: string[]) => {
    for (const name of list) {
      const parsed = parseFreqtradeFileName(name);
      if (parsed) files.push({ path: join(folder, name), ...parsed });
    }
  };
  scan(dir, names);
  const futures = join(dir, 'futures');
  if (names.includes('futures') && statSync(futures).isDirectory()) scan(futures, readdirSync(futures));
  if (files.length === 0) {
    throw new DataError(
      'no Freqtrade candle files here (expected names like BTC_USDT-5m.json or BTC_USDT-5m.feather)',
      { file: dir },
    );
  }
  return files.sort(
    (a, b) =>
      a.pair.localeCompare(b.pair) || a.timeframe.localeCompare(b.timeframe) || a.format.localeCompare(b.format),
  );
}

/** Reads, validates and applies the policy to one Freqtrade candle file (its timeframe from its name). */
export function importFreqtradeFile(file: FreqtradeDataFile, opts: ImportOptions = {}): ImportResult {
  if (!file.supported) {
    throw new DataError(`timeframe ${file.timeframe} is not one tradeforge stores (${TIMEFRAMES.join(', ')})`, {
      file: file.path,
    });
  }
  const timeframe = file.timeframe as Timeframe;
  if (file.format === 'feather') {
    const columns = readFreqtradeFeather(file.path);
    if (columns.length === 0) throw new DataError('file is empty (no candles)', { file: file.path });
    return finishImport(
      { columns, rowNumbers: Int32Array.from({ length: columns.length }, (_, i) => i + 1) },
      { ...opts, timeframe },
      file.path,
    );
  }
  let text: string;
  try {
    const raw = readFileSync(file.path);
    text = (file.format === 'jsongz' ? gunzipSync(raw) : raw).toString('utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(code === 'ENOENT' ? 'file not found' : `cannot read (${code ?? (err as Error).message})`, {
      file: file.path,
    });
  }
  return importText(text, { ...opts, format: 'json', timeframe }, file.path);
}

/**
 * Picks, of a folder's files, one per pair and timeframe: feather (Freqtrade's default format) over JSON over
 * gzipped JSON. Returns the chosen files and the ones passed over.
 */
export function preferredFreqtradeFiles(files: readonly FreqtradeDataFile[]): {
  chosen: FreqtradeDataFile[];
  skipped: FreqtradeDataFile[];
} {
  const rank = { feather: 0, json: 1, jsongz: 2 } as const;
  const best = new Map<string, FreqtradeDataFile>();
  for (const f of files) {
    const key = `${f.pair}\u0000${f.timeframe}`;
    const cur = best.get(key);
    if (cur === undefined || rank[f.format] < rank[cur.format]) best.set(key, f);
  }
  const chosen = [...best.values()];
  return { chosen, skipped: files.filter((f) => !chosen.includes(f)) };
}

/** Finds `pair` at `timeframe` in a Freqtrade data folder (feather, else JSON); DataError naming what is missing. */
export function findFreqtradePair(dir: string, pair: string, timeframe: string): FreqtradeDataFile {
  const { chosen } = preferredFreqtradeFiles(listFreqtradeData(dir));
  const hit = chosen.find((f) => f.pair === pair && f.timeframe === timeframe);
  if (hit) return hit;
  const base = pair.replace(/[/ .@$+:]/g, '_');
  throw new DataError(`no ${timeframe} candles of ${pair} (expected ${base}-${timeframe}.feather or .json)`, {
    file: dir,
  });
}

/** One pair and timeframe read from a Freqtrade folder. */
export interface FreqtradeImport {
  file: FreqtradeDataFile;
  result: ImportResult;
}

/**
 * Reads every candle file of a Freqtrade data folder (one per pair and timeframe, feather first), optionally only
 * `timeframe`, validating each under the policy. Everything is read before anything is stored, so a bad file
 * stops the import with nothing written. Files at a timeframe we do not store are returned as `unsupported`.
 */
export function readFreqtradeFolder(
  dir: string,
  opts: ImportOptions = {},
): { imports: FreqtradeImport[]; skipped: FreqtradeDataFile[]; unsupported: FreqtradeDataFile[] } {
  const { chosen, skipped } = preferredFreqtradeFiles(listFreqtradeData(dir));
  const wanted = chosen.filter((f) => opts.timeframe === undefined || f.timeframe === opts.timeframe);
  if (wanted.length === 0) {
    throw new DataError(`no Freqtrade candle files at ${opts.timeframe} here`, { file: dir });
  }
  const unsupported = wanted.filter((f) => !f.supported);
  const imports = wanted.filter((f) => f.supported).map((file) => ({ file, result: importFreqtradeFile(file, opts) }));
  return { imports, skipped, unsupported };
}
