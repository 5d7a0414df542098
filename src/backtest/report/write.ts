import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { BarColumns } from '../../core/bar.js';
import { writeAll, writeFileAtomic } from '../../data/atomic-file.js';
import { renderEquityCsv, renderFillsCsv, renderStatTableCsv, renderTradesCsv } from './csv.js';
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

/** File name of a strategy statistics table in the CSV folder: `strategy-<name>.csv`, name reduced to [a-z0-9-]. */
export function statTableFileName(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  return `strategy-${slug || 'table'}.csv`;
}

/**
 * Writes `trades.csv`, `fills.csv`, `equity.csv` and one `strategy-<table>.csv` per table the strategy published
 * into `dir` (created when missing); returns their paths by name.
 */
export function writeCsvReports(dir: string, result: ReportInput): Record<string, string> {
  const out: Record<string, string> = {
    trades: join(dir, 'trades.csv'),
    fills: join(dir, 'fills.csv'),
    equity: join(dir, 'equity.csv'),
  };
  writeTextAtomic(out.trades, renderTradesCsv(result.trades));
  writeTextAtomic(out.fills, renderFillsCsv(result.fillRecords ?? []));
  writeTextAtomic(out.equity, renderEquityCsv(result.equity, result.metrics.initialCash));
  for (const [name, t] of Object.entries(result.strategyStats?.tables ?? {})) {
    const path = join(dir, statTableFileName(name));
    writeTextAtomic(path, renderStatTableCsv(t.columns, t.rows));
    out[`strategy-${name}`] = path;
  }
  return out;
}

let chartLibrary: string | null = null;

/**
 * The chart library the HTML report inlines: TradingView Lightweight Charts' standalone production build from
 * node_modules (its licence banner included), read once.
 */
export function loadChartLibrary(): string {
  if (chartLibrary === null) {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('lightweight-charts/package.json');
    chartLibrary = readFileSync(join(pkg, '..', 'dist', 'lightweight-charts.standalone.production.js'), 'utf8');
  }
  return chartLibrary;
}

/** Writes the self-contained HTML report to `path`. */
export function writeHtmlReport(
  path: string,
  result: ReportInput,
  candles: BarColumns,
  options?: HtmlReportOptions,
): void {
  writeTextAtomic(path, renderHtml(result, candles, loadChartLibrary(), options));
}
