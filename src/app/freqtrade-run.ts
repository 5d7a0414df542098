import { statSync } from 'node:fs';
import type { BarColumns } from '../core/bar.js';
import { ValidationError } from '../core/errors.js';
import { type FreqtradeRunSettings, parseFreqtradeConfig } from '../core/freqtrade-config.js';
import { parseTimeframe, type Timeframe } from '../core/timeframe.js';
import { findFreqtradePair, importFreqtradeFile } from '../data/freqtrade/index.js';
import { loadBars } from '../data/load.js';
import { readStructuredFile } from './load-config.js';

/** A Freqtrade config read for `tradeforge backtest --freqtrade-config`, with the data of its pairs. */
export interface FreqtradeRun {
  settings: FreqtradeRunSettings;
  timeframe: Timeframe;
  data: { symbol: string; columns: BarColumns; timeframe: Timeframe }[];
  /** Where the data came from: the Freqtrade folder, or the store. */
  source: string;
}

/**
 * Reads the Freqtrade config `file` and loads its `pair_whitelist` at its `timeframe`: from `dataDir` when it is
 * a Freqtrade data folder (`user_data/data/<exchange>/`), else from the store (pairs imported with
 * `tradeforge data import`). `--data` and `--timeframe` on the command line win over the config.
 */
export function loadFreqtradeRun(file: string, opts: { data?: string; timeframe?: string } = {}): FreqtradeRun {
  const settings = parseFreqtradeConfig(readStructuredFile(file), file);
  const tfRaw = opts.timeframe ?? settings.timeframe;
  if (!tfRaw) throw new ValidationError(`${file} has no "timeframe"; pass --timeframe`, 'timeframe');
  const timeframe = parseTimeframe(tfRaw);
  let folder: string | undefined;
  try {
    folder = opts.data !== undefined && statSync(opts.data).isDirectory() ? opts.data : undefined;
  } catch {
    folder = undefined;
  }
  if (opts.data !== undefined && folder === undefined) {
    // A file or one stored symbol: the config's pairs do not apply.
    const one = loadBars(opts.data, { timeframe });
    return { settings, timeframe, data: [{ symbol: one.symbol, columns: one.columns, timeframe }], source: opts.data };
  }
  const pairs = settings.symbols;
  if (!pairs || pairs.length === 0) {
    throw new ValidationError(`${file} has no exchange.pair_whitelist; pass --data`, 'data');
  }
  const data = pairs.map((pair) => {
    if (folder !== undefined) {
      const r = importFreqtradeFile(findFreqtradePair(folder, pair, timeframe), { timeframe });
      return { symbol: pair, columns: r.columns, timeframe };
    }
    return { symbol: pair, columns: loadBars(`${pair}@${timeframe}`).columns, timeframe };
  });
  return { settings, timeframe, data, source: folder ?? 'store' };
}
