import { join } from 'node:path';
import type { BarColumns } from '../../core/bar.js';
import { writeAll, writeFileAtomic } from '../../data/atomic-file.js';
import { renderEquityCsv, renderTradesCsv } from './csv.js';
import { type HtmlReportOptions, renderHtml } from './html.js';
import { renderJson } from './json.js';
import type { ReportInput } from './types.js';

/** Writes text atomically (temp file + fsync + rename): a crash never leaves a half-written report. */
export function writeTextAtomic(path: string, text: string): void {
  writeFileAtomic(path, (fd) => writeAll(fd, Buffer.from(text, 'utf8')));
}

/** Writes the JSON report to `path`. */
export function writeJsonReport(path: string, result: ReportInput): void {
  writeTextAtomic(path, renderJson(result));
}

/** Writes `trades.csv` and `equity.csv` into `dir` (created when missing); returns their paths. */
export function writeCsvReports(dir: string, result: ReportInput): { trades: string; equity: string } {
  const trades = join(dir, 'trades.csv');
  const equity = join(dir, 'equity.csv');
  writeTextAtomic(trades, renderTradesCsv(result.trades));
  writeTextAtomic(equity, renderEquityCsv(result.equity, result.metrics.initialCash));
  return { trades, equity };
}

/** Writes the self-contained HTML report to `path`. */
export function writeHtmlReport(
  path: string,
  result: ReportInput,
  candles: BarColumns,
  options?: HtmlReportOptions,
): void {
  writeTextAtomic(path, renderHtml(result, candles, options));
}
