/** Backtest reports: pure renderers (JSON, CSV, HTML) and their atomic file writers. */
export { EQUITY_CSV_HEADER, renderEquityCsv, renderTradesCsv, TRADES_CSV_HEADER } from './csv.js';
export { type HtmlReportOptions, renderHtml } from './html.js';
export { JSON_REPORT_VERSION, renderJson } from './json.js';
export type { ReportInput, ReportRiskEvent } from './types.js';
export { writeCsvReports, writeHtmlReport, writeJsonReport, writeTextAtomic } from './write.js';
