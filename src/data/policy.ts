import { type BarColumns, DataError, TIMEFRAME_MS } from '../core/index.js';
import type { DataPolicy, ValidationIssue, ValidationReport } from './types.js';

/** Column-by-column builder used by the policies (rows are copied, never shared with the input). */
class ColumnsBuilder {
  private n = 0;
  readonly time: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  readonly extra: Record<string, Float64Array> = {};
  readonly extraText: Record<string, string[]> = {};

  constructor(
    private readonly src: BarColumns,
    capacity: number,
  ) {
    this.time = new Float64Array(capacity);
    this.open = new Float64Array(capacity);
    this.high = new Float64Array(capacity);
    this.low = new Float64Array(capacity);
    this.close = new Float64Array(capacity);
    this.volume = new Float64Array(capacity);
    for (const k of Object.keys(src.extra ?? {})) this.extra[k] = new Float64Array(capacity);
    for (const k of Object.keys(src.extraText ?? {})) this.extraText[k] = [];
  }

  copy(i: number): void {
    const s = this.src;
    this.put(s.time[i], s.open[i], s.high[i], s.low[i], s.close[i], s.volume[i], i);
  }

  /** Appends a row; extras come from source row `from` or are NaN / '' for synthetic rows. */
  put(t: number, o: number, h: number, l: number, c: number, v: number, from: number): void {
    const n = this.n++;
    this.time[n] = t;
    this.open[n] = o;
    this.high[n] = h;
    this.low[n] = l;
    this.close[n] = c;
    this.volume[n] = v;
    for (const [k, col] of Object.entries(this.extra))
      col[n] = from >= 0 ? (this.src.extra?.[k][from] ?? Number.NaN) : Number.NaN;
    for (const [k, col] of Object.entries(this.extraText))
      col.push(from >= 0 ? (this.src.extraText?.[k][from] ?? '') : '');
  }

  get lastClose(): number {
    return this.n > 0 ? this.close[this.n - 1] : Number.NaN;
  }

  get lastTime(): number {
    return this.n > 0 ? this.time[this.n - 1] : Number.NaN;
  }

  build(): BarColumns {
    const n = this.n;
    const extra = Object.fromEntries(Object.entries(this.extra).map(([k, v]) => [k, v.slice(0, n)]));
    return {
      length: n,
      time: this.time.slice(0, n),
      open: this.open.slice(0, n),
      high: this.high.slice(0, n),
      low: this.low.slice(0, n),
      close: this.close.slice(0, n),
      volume: this.volume.slice(0, n),
      ...(Object.keys(extra).length ? { extra } : {}),
      ...(Object.keys(this.extraText).length ? { extraText: this.extraText } : {}),
    };
  }
}

/** The first error-severity issue, or undefined. */
export function firstError(report: ValidationReport): ValidationIssue | undefined {
  return report.issues.find((i) => i.severity === 'error');
}

/**
 * A one-line DataError for an issue: file, row, column, kind and detail, and how to repair it. The hint names
 * `tradeforge data import --policy`, which every command reading data files can point to (backtest and optimize
 * have no --policy of their own).
 */
export function issueError(report: ValidationReport, issue: ValidationIssue): DataError {
  const others = report.errors > 1 ? `${report.errors - 1} more; ` : '';
  const more = ` (${others}fix the file, or import it with \`tradeforge data import --policy drop|ffill\` to repair)`;
  return new DataError(`${issue.kind}: ${issue.detail}${more}`, {
    file: report.file,
    row: issue.row,
    column: issue.column,
  });
}

/**
 * Applies a policy to validated columns. reject: throws a DataError for the first error (warnings pass);
 * drop: removes rows with errors and outliers; ffill: drops duplicate/out-of-order rows, replaces other bad rows by a
 * flat bar at the previous close (volume kept, negative volume -> 0) and fills reported gaps with flat bars of
 * volume 0. Returns new columns (the input is not changed).
 */
export function applyPolicy(c: BarColumns, report: ValidationReport, policy: DataPolicy): BarColumns {
  if (policy === 'reject') {
    const err = firstError(report);
    if (err) throw issueError(report, err);
    return c;
  }
  const bad = new Map<number, ValidationIssue>();
  const gaps = new Set<number>();
  for (const is of report.issues) {
    if (is.kind === 'gap') gaps.add(is.index);
    else if (!bad.has(is.index) || is.severity === 'error') bad.set(is.index, is);
  }
  if (bad.size === 0 && (policy === 'drop' || gaps.size === 0)) return c;
  const step = report.timeframe ? TIMEFRAME_MS[report.timeframe] : 0;
  let capacity = c.length;
  if (policy === 'ffill' && step > 0) {
    let latest = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < c.length; i++) {
      if (gaps.has(i)) capacity += Math.max(0, Math.round((c.time[i] - latest) / step));
      if (c.time[i] > latest) latest = c.time[i];
    }
  }
  const out = new ColumnsBuilder(c, capacity);
  for (let i = 0; i < c.length; i++) {
    const issue = bad.get(i);
    if (policy === 'drop') {
      if (!issue) out.copy(i);
      continue;
    }
    if (issue && (issue.kind === 'duplicate' || issue.kind === 'out-of-order')) continue;
    const prevClose = out.lastClose;
    if (gaps.has(i) && step > 0 && !Number.isNaN(prevClose)) {
      for (let t = out.lastTime + step; t < c.time[i]; t += step)
        out.put(t, prevClose, prevClose, prevClose, prevClose, 0, -1);
    }
    if (!issue) out.copy(i);
    else if (!Number.isNaN(prevClose)) {
      const v = Number.isNaN(c.volume[i]) || c.volume[i] < 0 ? 0 : c.volume[i];
      out.put(c.time[i], prevClose, prevClose, prevClose, prevClose, v, i);
    }
    // A bad first row has no previous close to fill from; it is dropped.
  }
  return out.build();
}
