import type { BarColumns } from '../core/bar.js';
import { ValidationError } from '../core/errors.js';
import { TIMEFRAME_MS, type Timeframe } from '../core/timeframe.js';
import type { BarView as StrategyBar, HistoryView as StrategyHistory, SeriesField } from '../strategy/types.js';
import type { BarLike } from './execution-venue.js';

/**
 * The current bar of one symbol: a reused view over the symbol's columns. The engine moves it by setting `index`
 * (one integer store per bar instead of six number stores); the fields are read from the columns at that row.
 * Before the first bar (`index` -1) every field reads NaN.
 */
export class BarView implements BarLike, StrategyBar {
  /** Row of this bar in the symbol's columns (-1 before the first). */
  index = -1;
  private readonly cTime: Float64Array;
  private readonly cOpen: Float64Array;
  private readonly cHigh: Float64Array;
  private readonly cLow: Float64Array;
  private readonly cClose: Float64Array;
  private readonly cVolume: Float64Array;

  constructor(columns: SeriesColumns) {
    this.cTime = columns.time;
    this.cOpen = columns.open;
    this.cHigh = columns.high;
    this.cLow = columns.low;
    this.cClose = columns.close;
    this.cVolume = columns.volume;
  }

  get time(): number {
    const i = this.index;
    return i >= 0 ? this.cTime[i] : Number.NaN;
  }

  get open(): number {
    const i = this.index;
    return i >= 0 ? this.cOpen[i] : Number.NaN;
  }

  get high(): number {
    const i = this.index;
    return i >= 0 ? this.cHigh[i] : Number.NaN;
  }

  get low(): number {
    const i = this.index;
    return i >= 0 ? this.cLow[i] : Number.NaN;
  }

  get close(): number {
    const i = this.index;
    return i >= 0 ? this.cClose[i] : Number.NaN;
  }

  get volume(): number {
    const i = this.index;
    return i >= 0 ? this.cVolume[i] : Number.NaN;
  }
}

/** OHLCV columns a history view reads. */
interface SeriesColumns {
  readonly time: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/**
 * A read-only window on bars up to now. `ago` 0 is the latest closed bar; reads past either end give NaN, so
 * a strategy can never see a future bar. The view is reused; its length grows as the run advances.
 */
export class HistoryView implements StrategyHistory {
  /** Number of visible bars. */
  length = 0;

  constructor(private readonly src: SeriesColumns) {}

  /** Sets the visible length (engine only). */
  setLength(n: number): void {
    this.length = n;
  }

  /** Value of `field`, `ago` bars back from the latest visible bar. */
  get(field: SeriesField, ago = 0): number {
    const k = this.length - 1 - ago;
    return ago >= 0 && k >= 0 ? this.src[field][k] : Number.NaN;
  }

  time(ago = 0): number {
    const k = this.length - 1 - ago;
    return ago >= 0 && k >= 0 ? this.src.time[k] : Number.NaN;
  }

  open(ago = 0): number {
    const k = this.length - 1 - ago;
    return ago >= 0 && k >= 0 ? this.src.open[k] : Number.NaN;
  }

  high(ago = 0): number {
    const k = this.length - 1 - ago;
    return ago >= 0 && k >= 0 ? this.src.high[k] : Number.NaN;
  }

  low(ago = 0): number {
    const k = this.length - 1 - ago;
    return ago >= 0 && k >= 0 ? this.src.low[k] : Number.NaN;
  }

  close(ago = 0): number {
    const k = this.length - 1 - ago;
    return ago >= 0 && k >= 0 ? this.src.close[k] : Number.NaN;
  }

  volume(ago = 0): number {
    const k = this.length - 1 - ago;
    return ago >= 0 && k >= 0 ? this.src.volume[k] : Number.NaN;
  }

  /** A copy of the visible part of one column, oldest first (allocates; not for per-bar use). */
  toArray(field: SeriesField): Float64Array {
    return this.src[field].slice(0, this.length);
  }
}

const DAY_MS = 86_400_000;
// 1970-01-05 was a Monday: weekly buckets start on Mondays 00:00 UTC.
const WEEK_OFFSET_MS = 4 * DAY_MS;

/** Start of the bucket of timeframe `tfMs` holding `time` (UTC-aligned; weeks start on Monday). */
export function bucketStart(time: number, tfMs: number): number {
  const offset = tfMs === 7 * DAY_MS ? WEEK_OFFSET_MS : 0;
  return Math.floor((time - offset) / tfMs) * tfMs + offset;
}

/**
 * Higher-timeframe bars built from a symbol's base bars as the run advances. A higher bar becomes visible
 * only once closed: when its last base bar (the one ending at the bucket's end) has been seen, or when a base
 * bar of a later bucket arrives. Nothing is computed for a timeframe nobody asks for.
 */
export class HigherTimeframe {
  readonly cols: SeriesColumns;
  readonly view: HistoryView;
  private count = 0;
  private processed = -1;
  private curBucket = Number.NaN;
  private closed = 0;

  constructor(
    private readonly base: BarColumns,
    private readonly baseMs: number,
    private readonly tfMs: number,
  ) {
    const n = base.length;
    const span = n > 0 ? base.time[n - 1] - base.time[0] : 0;
    const cap = Math.max(1, Math.min(n, Math.ceil(span / tfMs) + 2));
    this.cols = {
      time: new Float64Array(cap),
      open: new Float64Array(cap),
      high: new Float64Array(cap),
      low: new Float64Array(cap),
      close: new Float64Array(cap),
      volume: new Float64Array(cap),
    };
    this.view = new HistoryView(this.cols);
  }

  /** Folds base rows up to and including `i` into higher bars and updates the visible length. */
  advanceTo(i: number): void {
    const b = this.base;
    const c = this.cols;
    for (let r = this.processed + 1; r <= i; r++) {
      const t = b.time[r];
      const bucket = bucketStart(t, this.tfMs);
      if (bucket !== this.curBucket) {
        this.closed = this.count;
        const k = this.count++;
        this.curBucket = bucket;
        c.time[k] = bucket;
        c.open[k] = b.open[r];
        c.high[k] = b.high[r];
        c.low[k] = b.low[r];
        c.close[k] = b.close[r];
        c.volume[k] = b.volume[r];
      } else {
        const k = this.count - 1;
        if (b.high[r] > c.high[k]) c.high[k] = b.high[r];
        if (b.low[r] < c.low[k]) c.low[k] = b.low[r];
        c.close[k] = b.close[r];
        c.volume[k] += b.volume[r];
      }
      if (t + this.baseMs >= bucket + this.tfMs) this.closed = this.count;
    }
    if (i > this.processed) this.processed = i;
    this.view.setLength(this.closed);
  }
}

/** One symbol's data in a run: its columns, the current row and the reused bar view. */
export class SymbolFeed {
  /** Row of the latest bar delivered (-1 before the first). */
  cursor = -1;
  readonly bar: BarView;
  readonly history: HistoryView;
  private readonly higher = new Map<Timeframe, HigherTimeframe>();

  constructor(
    readonly symbol: string,
    readonly columns: BarColumns,
    readonly timeframe: Timeframe,
  ) {
    this.history = new HistoryView(columns);
    this.bar = new BarView(columns);
  }

  /** Moves to row `i`: the bar view reads that row (no allocation, no copy). */
  advance(i: number): void {
    this.cursor = i;
    this.bar.index = i;
  }

  /** History at the base timeframe (the current bar included: it is closed when strategies see it). */
  baseHistory(): HistoryView {
    this.history.setLength(this.cursor + 1);
    return this.history;
  }

  /** Closed bars of a higher timeframe derived from the base bars. */
  higherHistory(tf: Timeframe): HistoryView {
    if (tf === this.timeframe) return this.baseHistory();
    const baseMs = TIMEFRAME_MS[this.timeframe];
    const tfMs = TIMEFRAME_MS[tf];
    if (tfMs < baseMs || tfMs % baseMs !== 0) {
      throw new ValidationError(
        `timeframe ${tf} cannot be built from ${this.symbol}'s ${this.timeframe} bars (must be a multiple)`,
        'timeframe',
      );
    }
    let h = this.higher.get(tf);
    if (h === undefined) {
      h = new HigherTimeframe(this.columns, baseMs, tfMs);
      this.higher.set(tf, h);
    }
    h.advanceTo(this.cursor);
    return h.view;
  }

  /** Value of an extra numeric column at the current row, `ago` rows back (NaN when absent or out of range). */
  extra(name: string, ago = 0): number {
    const col = this.columns.extra?.[name];
    const k = this.cursor - ago;
    return col !== undefined && ago >= 0 && k >= 0 ? col[k] : Number.NaN;
  }

  /** Value of an extra text column at the current row (undefined when absent). */
  extraText(name: string, ago = 0): string | undefined {
    const col = this.columns.extraText?.[name];
    const k = this.cursor - ago;
    return col !== undefined && ago >= 0 && k >= 0 ? col[k] : undefined;
  }
}
