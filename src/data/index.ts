/** Market data: import (CSV/JSON), validation and policies, the columnar store, resampling, synthetic bars. */
export { TEMP_SUFFIX, writeFileAtomic } from './atomic-file.js';
export { BAR_FIELDS, normaliseHeader } from './column-map.js';
export { type ProgressFn, writeBarsFile, writeCsv, writeCsvFile, writeJsonFile } from './export.js';
export { DEFAULT_GENERATE_START, type GenerateOptions, generateBars } from './generate.js';
export { importFile, importText } from './import.js';
export { type LoadedBars, loadBars, parseSymbolSpec } from './load.js';
export { detectDelimiter } from './parse-csv.js';
export { applyPolicy, firstError, issueError } from './policy.js';
export { SeededRandom } from './random.js';
export { bucketStart, resample } from './resample.js';
export {
  encodeSymbol,
  MarketDataStore,
  readStoreFile,
  STORE_EXT,
  STORE_SCHEMA_VERSION,
  type StoredSeries,
  sliceRange,
} from './store.js';
export { epochToMs, formatTime, parseTime } from './time-parse.js';
export type {
  ColumnMapping,
  DataPolicy,
  ImportOptions,
  ImportResult,
  IssueKind,
  ValidateOptions,
  ValidationIssue,
  ValidationReport,
} from './types.js';
export { DEFAULT_OUTLIER_Z, defaultMaxGapMs, inferTimeframe, isErrorKind, validateBars } from './validate.js';
