import type { BarColumns } from '../core/bar.js';
import { ValidationError } from '../core/errors.js';
import { TIMEFRAME_MS, type Timeframe } from '../core/timeframe.js';
import type { MarketDataStore } from '../data/store.js';
import type { OhlcvSource } from '../venues/ccxt/ohlcv-source.js';
import { addCoverage, readCoverage, uncovered } from './download-coverage.js';

/** One symbol's download: the range `[from, to]` (epoch ms, inclusive) at `timeframe` into the store. */
export interface DownloadRequest {
  source: OhlcvSource;
  store: MarketDataStore;
  symbol: string;
  timeframe: Timeframe;
  from: number;
  to: number;
  /** Candles per call (default and maximum: the source's page limit). */
  pageLimit?: number;
  /** Called after every page with pages done and the pages the download is expected to need. */
  onProgress?: (done: number, expected: number) => void;
  /** The clock (default Date.now): the bar in progress is never recorded as answered. */
  now?: () => number;
}

/** What a download did. */
export interface DownloadOutcome {
  symbol: string;
  /** Candles added to the store. */
  added: number;
  /** Pages requested from the provider (each a provider call unless retried). */
  pages: number;
  /** Candles stored for the symbol and timeframe now. */
  stored: number;
  path: string;
}

function toColumns(rows: readonly number[][]): BarColumns {
  const n = rows.length;
  const col = (k: number) => Float64Array.from(rows, (r) => Number(r[k]));
  return {
    length: n,
    time: col(0),
    open: col(1),
    high: col(2),
    low: col(3),
    close: col(4),
    volume: Float64Array.from(rows, (r) => (r[5] === undefined || r[5] === null ? 0 : Number(r[5]))),
  };
}

function concat(a: BarColumns, b: BarColumns): BarColumns {
  const join = (x: Float64Array, y: Float64Array) => {
    const out = new Float64Array(x.length + y.length);
    out.set(x);
    out.set(y, x.length);
    return out;
  };
  return {
    length: a.length + b.length,
    time: join(a.time, b.time),
    open: join(a.open, b.open),
    high: join(a.high, b.high),
    low: join(a.low, b.low),
    close: join(a.close, b.close),
    volume: join(a.volume, b.volume),
  };
}

/**
 * Downloads candles into the columnar store, which is also the cache: only what the store lacks is fetched —
 * the tail after the last stored candle (an incremental update) and the head before the first — and ranges the
 * provider already answered with no candles (weekends, holidays, before a listing; remembered beside the store
 * file, `download-coverage.ts`) are not asked again. Pages are requested from the cursor on (the next page starts
 * one bar after the last candle received; for a `window`-paged source such as Yahoo, at the end of the window)
 * until the range is covered or the provider has no more; each tail page is appended to the store at once, so
 * an interrupted download resumes where it stopped. Gaps inside the stored range are not re-fetched.
 */
export async function downloadCandles(req: DownloadRequest): Promise<DownloadOutcome> {
  const tfMs = TIMEFRAME_MS[req.timeframe];
  if (!(req.to >= req.from)) throw new ValidationError(`--to must not be before --from`, 'to');
  const limit = Math.min(req.pageLimit ?? req.source.pageLimit, req.source.pageLimit);
  const windowed = req.source.paging === 'window';
  const from = Math.ceil(req.from / tfMs) * tfMs;
  const { store, symbol, timeframe } = req;
  const path = store.pathOf(symbol, timeframe);
  // Up to the start of the bar in progress: later candles may still change.
  const settled = Math.floor((req.now ?? Date.now)() / tfMs) * tfMs - 1;
  const existing = store.has(symbol, timeframe) ? store.read(symbol, timeframe) : undefined;
  const covered = readCoverage(path);
  const first = existing && existing.length > 0 ? existing.time[0] : Number.POSITIVE_INFINITY;
  if (existing && existing.length > 0) covered.push([first, existing.time[existing.length - 1]]);
  const ranges = uncovered(from, req.to, covered, tfMs).map(([a, b]) => ({
    a,
    b,
    head: existing !== undefined && b < first,
  }));
  const expected = ranges.reduce((n, r) => n + Math.max(1, Math.ceil((Math.floor((r.b - r.a) / tfMs) + 1) / limit)), 0);
  let pages = 0;
  let added = 0;
  for (const r of ranges) {
    let cursor = r.a;
    let head: BarColumns | undefined;
    while (cursor <= r.b) {
      const windowStart = cursor;
      const page = await req.source.fetchPage(symbol, timeframe, cursor, limit);
      pages++;
      const rows = page.filter((row) => row[0] >= cursor && row[0] <= r.b).sort((x, y) => x[0] - y[0]);
      if (rows.length > 0) {
        const cols = toColumns(rows);
        if (r.head) head = head ? concat(head, cols) : cols;
        else added += store.append(symbol, timeframe, cols, { skipExisting: true }).appended;
        cursor = rows[rows.length - 1][0] + tfMs;
      }
      req.onProgress?.(pages, Math.max(expected, pages));
      // A window-paged source: the next window, whatever this one held.
      if (windowed) {
        cursor = Math.max(cursor, windowStart + limit * tfMs);
        continue;
      }
      // A short page means the provider has nothing more up to now; an empty one that nothing is left.
      if (page.length < limit || rows.length === 0) break;
    }
    if (head !== undefined) {
      const after = store.read(symbol, timeframe);
      const firstStored = after.time[0];
      const keep = head.time.findIndex((t) => t >= firstStored);
      const part =
        keep < 0
          ? head
          : {
              length: keep,
              time: head.time.subarray(0, keep),
              open: head.open.subarray(0, keep),
              high: head.high.subarray(0, keep),
              low: head.low.subarray(0, keep),
              close: head.close.subarray(0, keep),
              volume: head.volume.subarray(0, keep),
            };
      store.write(symbol, timeframe, concat(part, after));
      added += part.length;
    }
    // Answered in full: remembered, so a repeat asks the provider nothing for it.
    addCoverage(path, r.a, Math.min(r.b, settled), tfMs);
  }
  const stored = store.has(symbol, timeframe) ? store.read(symbol, timeframe).length : 0;
  return { symbol, added, pages, stored, path: store.pathOf(symbol, timeframe) };
}
