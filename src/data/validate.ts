import { type BarColumns, TIMEFRAME_MS, TIMEFRAMES, type Timeframe } from '../core/index.js';
import { formatTime } from './time-parse.js';
import type { IssueKind, ValidateOptions, ValidationIssue, ValidationReport } from './types.js';

/** Default robust z-score above which a close-to-close log return is an outlier (see docs/data.md). */
export const DEFAULT_OUTLIER_Z = 20;

const DAY = 86_400_000;
const ERROR_KINDS: ReadonlySet<IssueKind> = new Set([
  'duplicate',
  'out-of-order',
  'high-below-low',
  'outside-range',
  'non-positive',
  'out-of-bounds',
]);

/**
 * Absolute sanity bounds, beside the statistical outlier check: no traded instrument is priced above 1e12 or trades
 * more than 1e18 units in a bar, and the outlier check alone passes a single absurd bar (`high=1e308`) when the rest of
 * the series is calm enough.
 */
export const MAX_PRICE = 1e12;
/** See {@link MAX_PRICE}. */
export const MAX_VOLUME = 1e18;

/** True for kinds that make data unusable (reject refuses them); gaps and outliers are warnings. */
export function isErrorKind(kind: IssueKind): boolean {
  return ERROR_KINDS.has(kind);
}

/** Default largest step between bars that is not a gap: 4 days for daily bars (weekends, holidays), else one bar. */
export function defaultMaxGapMs(tf: Timeframe): number {
  return tf === '1d' ? 4 * DAY : TIMEFRAME_MS[tf];
}

/** Infers the timeframe from the median spacing of the first 10,000 steps; undefined unless it matches exactly. */
export function inferTimeframe(time: Float64Array): Timeframe | undefined {
  const n = Math.min(time.length - 1, 10_000);
  if (n < 1) return undefined;
  const steps: number[] = [];
  for (let i = 1; i <= n; i++) {
    const d = time[i] - time[i - 1];
    if (d > 0) steps.push(d);
  }
  if (steps.length === 0) return undefined;
  steps.sort((a, b) => a - b);
  const median = steps[Math.floor(steps.length / 2)];
  return TIMEFRAMES.find((tf) => TIMEFRAME_MS[tf] === median);
}

function emptyCounts(): Record<IssueKind, number> {
  return {
    gap: 0,
    duplicate: 0,
    'out-of-order': 0,
    'high-below-low': 0,
    'outside-range': 0,
    'non-positive': 0,
    'out-of-bounds': 0,
    outlier: 0,
  };
}

/**
 * Checks bars for gaps, duplicates, out-of-order rows, high < low, open/close outside [low, high], non-positive or
 * missing prices (and negative volume) and outliers. Each issue names its row. Pure: does not change the columns.
 */
export function validateBars(c: BarColumns, opts: ValidateOptions = {}): ValidationReport {
  const issues: ValidationIssue[] = [];
  const firstRow = opts.firstRow ?? 2;
  const rowOf = (i: number): number => (opts.rowNumbers ? opts.rowNumbers[i] : i + firstRow);
  const add = (i: number, kind: IssueKind, column: string, detail: string): void => {
    issues.push({ row: rowOf(i), index: i, kind, severity: isErrorKind(kind) ? 'error' : 'warning', column, detail });
  };
  const tf = opts.timeframe;
  const step = tf ? TIMEFRAME_MS[tf] : 0;
  const maxGap = tf ? (opts.maxGapMs ?? defaultMaxGapMs(tf)) : undefined;
  const n = c.length;
  const { time, open, high, low, close, volume } = c;
  let maxTime = Number.NEGATIVE_INFINITY;
  let maxIndex = -1;
  // Rows usable for return statistics: in order, with a positive close.
  const ordered = new Uint8Array(n);

  for (let i = 0; i < n; i++) {
    const t = time[i];
    if (i > 0 && t === maxTime) {
      add(i, 'duplicate', 'time', `time ${formatTime(t)} repeats row ${rowOf(maxIndex)}`);
    } else if (i > 0 && t < maxTime) {
      add(i, 'out-of-order', 'time', `time ${formatTime(t)} is before row ${rowOf(maxIndex)} (${formatTime(maxTime)})`);
    } else {
      if (i > 0 && maxGap !== undefined && t - maxTime > maxGap) {
        const missing = Math.round((t - maxTime) / step) - 1;
        add(i, 'gap', 'time', `${missing} missing ${tf} bars between ${formatTime(maxTime)} and ${formatTime(t)}`);
      }
      maxTime = t;
      maxIndex = i;
      ordered[i] = 1;
    }
    const o = open[i];
    const h = high[i];
    const l = low[i];
    const cl = close[i];
    if (!(o > 0 && h > 0 && l > 0 && cl > 0)) {
      const [col, v] = !(o > 0) ? ['open', o] : !(h > 0) ? ['high', h] : !(l > 0) ? ['low', l] : ['close', cl];
      add(i, 'non-positive', col as string, `${col} is ${v} (prices must be > 0)`);
      ordered[i] = 0;
    } else if (h > MAX_PRICE || o > MAX_PRICE || l > MAX_PRICE || cl > MAX_PRICE) {
      const [col, v] =
        o > MAX_PRICE ? ['open', o] : h > MAX_PRICE ? ['high', h] : l > MAX_PRICE ? ['low', l] : ['close', cl];
      add(i, 'out-of-bounds', col as string, `${col} is ${v}, beyond the absolute bound ${MAX_PRICE}`);
      ordered[i] = 0;
    } else if (volume[i] > MAX_VOLUME) {
      add(i, 'out-of-bounds', 'volume', `volume is ${volume[i]}, beyond the absolute bound ${MAX_VOLUME}`);
    } else if (h < l) {
      add(i, 'high-below-low', 'high', `high ${h} < low ${l}`);
    } else if (o < l || o > h || cl < l || cl > h) {
      const col = o < l || o > h ? 'open' : 'close';
      add(i, 'outside-range', col, `${col} ${col === 'open' ? o : cl} outside [low ${l}, high ${h}]`);
    } else if (volume[i] < 0 || Number.isNaN(volume[i])) {
      add(i, 'non-positive', 'volume', `volume is ${volume[i]} (must be >= 0)`);
    }
  }
  const z = opts.outlierZ ?? DEFAULT_OUTLIER_Z;
  if (z > 0) findOutliers(c, ordered, z, add);
  issues.sort((a, b) => a.index - b.index);
  const counts = emptyCounts();
  let errors = 0;
  for (const is of issues) {
    counts[is.kind]++;
    if (is.severity === 'error') errors++;
  }
  return {
    rows: n,
    timeframe: tf,
    issues,
    counts,
    errors,
    warnings: issues.length - errors,
    clean: issues.length === 0,
    maxGapMs: maxGap,
    ...(opts.file ? { file: opts.file } : {}),
  };
}

/**
 * Flags rows whose close-to-close log return is more than `z` robust standard deviations (1.4826 * MAD) from the
 * median. A one-bar spike moves the price away and back; only the row that jumped is flagged, not its reversal.
 */
function findOutliers(
  c: BarColumns,
  ordered: Uint8Array,
  z: number,
  add: (i: number, kind: IssueKind, column: string, detail: string) => void,
): void {
  const n = c.length;
  const ret = new Float64Array(n).fill(Number.NaN);
  let prev = -1;
  let count = 0;
  for (let i = 0; i < n; i++) {
    if (!ordered[i]) continue;
    if (prev >= 0) {
      ret[i] = Math.log(c.close[i] / c.close[prev]);
      count++;
    }
    prev = i;
  }
  if (count < 20) return;
  const valid = new Float64Array(count);
  let k = 0;
  for (let i = 0; i < n; i++) if (!Number.isNaN(ret[i])) valid[k++] = ret[i];
  valid.sort();
  const median = valid[count >> 1];
  for (let i = 0; i < count; i++) valid[i] = Math.abs(valid[i] - median);
  valid.sort();
  let scale = 1.4826 * valid[count >> 1];
  if (!(scale > 0)) {
    let s = 0;
    for (let i = 0; i < n; i++) if (!Number.isNaN(ret[i])) s += (ret[i] - median) ** 2;
    scale = Math.sqrt(s / count);
  }
  if (!(scale > 0)) return;
  let lastFlagged = -1;
  let lastSign = 0;
  for (let i = 0; i < n; i++) {
    const r = ret[i];
    if (Number.isNaN(r)) continue;
    const score = Math.abs(r - median) / scale;
    if (score <= z) continue;
    const sign = Math.sign(r - median);
    if (lastFlagged >= 0 && sign === -lastSign && isPrevOrdered(ordered, lastFlagged, i)) {
      lastFlagged = -1;
      continue;
    }
    add(
      i,
      'outlier',
      'close',
      `close ${c.close[i]} is a ${(r * 100).toFixed(2)}% move (z = ${score.toFixed(1)} > ${z})`,
    );
    lastFlagged = i;
    lastSign = sign;
  }
}

function isPrevOrdered(ordered: Uint8Array, prev: number, i: number): boolean {
  for (let j = i - 1; j > prev; j--) if (ordered[j]) return false;
  return true;
}
