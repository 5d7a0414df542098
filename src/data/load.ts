import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, extname, join, resolve } from 'node:path';
import { type BarColumns, DataError, TIMEFRAMES, type Timeframe } from '../core/index.js';
import { importFile } from './import.js';
import { MarketDataStore } from './store.js';

/** What `loadBars` found: the columns, their timeframe (if known) and the symbol (file name for a file). */
export interface LoadedBars {
  columns: BarColumns;
  timeframe: Timeframe | undefined;
  symbol: string;
}

/** Default store directory, mirroring app/home (data may not import app): $TRADEFORGE_HOME/data. */
function defaultStore(): MarketDataStore {
  return new MarketDataStore(join(resolve(process.env.TRADEFORGE_HOME ?? join(homedir(), '.tradeforge')), 'data'));
}

/** Splits `SYM@1d` / `SYM:1d` into symbol and timeframe (only when the suffix is a timeframe). */
export function parseSymbolSpec(spec: string): { symbol: string; timeframe: Timeframe | undefined } {
  const m = /^(.+)[@:]([^@:]+)$/.exec(spec);
  if (m && (TIMEFRAMES as readonly string[]).includes(m[2])) return { symbol: m[1], timeframe: m[2] as Timeframe };
  return { symbol: spec, timeframe: undefined };
}

/**
 * Loads bars from a file path when it exists (validated under the reject policy), otherwise from the store as
 * `SYMBOL`, `SYMBOL@1d` or `SYMBOL:1d`. A symbol stored in several timeframes needs one named.
 */
export function loadBars(source: string, opts: { store?: MarketDataStore; timeframe?: Timeframe } = {}): LoadedBars {
  if (existsSync(source) && statSync(source).isFile()) {
    const r = importFile(source, opts.timeframe ? { timeframe: opts.timeframe } : {});
    return { columns: r.columns, timeframe: r.timeframe, symbol: basename(source, extname(source)) };
  }
  const store = opts.store ?? defaultStore();
  const spec = parseSymbolSpec(source);
  const tf = spec.timeframe ?? opts.timeframe;
  if (tf) {
    if (store.has(spec.symbol, tf)) return { columns: store.read(spec.symbol, tf), timeframe: tf, symbol: spec.symbol };
  } else {
    const tfs = store.timeframes(spec.symbol);
    if (tfs.length === 1) return { columns: store.read(spec.symbol, tfs[0]), timeframe: tfs[0], symbol: spec.symbol };
    if (tfs.length > 1) {
      throw new DataError(
        `${spec.symbol} is stored in several timeframes (${tfs.join(', ')}); name one, e.g. ${spec.symbol}@${tfs[0]}`,
      );
    }
  }
  throw new DataError(
    `${JSON.stringify(source)} is neither a file nor a stored symbol${tf ? ` at ${tf}` : ''} in ${store.dir} (see \`tradeforge data list\`)`,
  );
}
