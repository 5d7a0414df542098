/** Backtest reports: pure renderers (JSON, CSV, HTML) and their atomic file writers. */
export type { ReportIndicator } from './chart-data.js';
export {
  EQUITY_CSV_HEADER,
  FILLS_CSV_HEADER,
  renderEquityCsv,
  renderFillsCsv,
  renderStatTableCsv,
  renderTradesCsv,
  TRADES_CSV_HEADER,
} from './csv.js';
export { type HtmlReportOptions, renderHtml } from './html.js';
export { JSON_REPORT_VERSION, renderJson } from './json.js';
export type { ReportInput, ReportRiskEvent } from './types.js';
export {
  loadChartLibrary,
  statTableFileName,
  writeCsvReports,
  writeHtmlReport,
  writeJsonReport,
  writeTextAtomic,
} from './write.js';
