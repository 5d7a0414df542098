import type { BarColumns, Timeframe } from '../core/index.js';

/** What to do with rows that fail validation: refuse the data, drop the rows, or repair them from the previous close. */
export type DataPolicy = 'reject' | 'drop' | 'ffill';

/** Every kind of problem validation reports. `gap` and `outlier` are warnings; the rest are errors. */
export type IssueKind =
  | 'gap'
  | 'duplicate'
  | 'out-of-order'
  | 'high-below-low'
  | 'outside-range'
  | 'non-positive'
  | 'out-of-bounds'
  | 'outlier';

/** One validation finding. `row` is the file row (header = row 1) when known, `index` the 0-based column index. */
export interface ValidationIssue {
  row: number;
  index: number;
  kind: IssueKind;
  severity: 'error' | 'warning';
  column: string;
  detail: string;
}

/** Result of `validateBars`: every issue in row order plus counts per kind. */
export interface ValidationReport {
  rows: number;
  timeframe: Timeframe | undefined;
  issues: ValidationIssue[];
  counts: Record<IssueKind, number>;
  errors: number;
  warnings: number;
  /** True when there is no issue at all (not even a warning). */
  clean: boolean;
  /** Milliseconds between bars above which a gap is reported (undefined when the timeframe is unknown). */
  maxGapMs: number | undefined;
  /** The file validated, when known (used in error messages). */
  file?: string;
}

/** Options of `validateBars`. */
export interface ValidateOptions {
  /** Bar spacing used for gap detection; without it gaps are not checked. */
  timeframe?: Timeframe;
  /** A time step larger than this (ms) is a gap. Default: 4 days for 1d, one bar otherwise. */
  maxGapMs?: number;
  /** Robust z-score (median/MAD of close log returns) above which a row is an outlier. Default 20; 0 disables. */
  outlierZ?: number;
  /** Row number of each index (file rows); default index + firstRow. */
  rowNumbers?: ArrayLike<number>;
  /** Row number of index 0 when `rowNumbers` is not given. Default 2 (a CSV header is row 1). */
  firstRow?: number;
  /** File name used in messages. */
  file?: string;
}

/** Maps our fields to source column names (case-insensitive) or 0-based positions. */
export type ColumnMapping = Partial<Record<'time' | 'open' | 'high' | 'low' | 'close' | 'volume', string | number>>;

/** Options of `importFile` / `importText`. */
export interface ImportOptions {
  /** Force the format instead of detecting it from the extension or the content. */
  format?: 'csv' | 'json';
  /** CSV delimiter; detected from the header (`,` `;` tab `|`) when omitted. */
  delimiter?: string;
  /** Explicit column mapping (header names or positions); unmapped fields are found by name/alias. */
  columns?: ColumnMapping;
  /** Whether the CSV has a header row; detected when omitted (a first row of numbers is data). */
  header?: boolean;
  /** Timeframe of the data (otherwise inferred from the median spacing). */
  timeframe?: Timeframe;
  /** Policy applied after validation. Default 'reject'. 'none' returns the rows as read, with the report. */
  policy?: DataPolicy | 'none';
  /** Validation settings (gap tolerance, outlier threshold). */
  validation?: Pick<ValidateOptions, 'maxGapMs' | 'outlierZ'>;
  /** Called now and then while parsing with characters read so far and the total (for progress bars). */
  onProgress?: (done: number, total: number) => void;
}

/** Result of an import: the (policy-applied) columns, the timeframe, and the validation report of the raw rows. */
export interface ImportResult {
  columns: BarColumns;
  timeframe: Timeframe | undefined;
  report: ValidationReport;
}
