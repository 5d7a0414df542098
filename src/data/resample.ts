import { type BarColumns, TIMEFRAME_MS, type Timeframe, ValidationError } from '../core/index.js';

const DAY = 86_400_000;
/** 1970-01-01 was a Thursday; the first Monday 00:00 UTC is 4 days later. */
const MONDAY_OFFSET = 4 * DAY;

/** Start of the `tf` bucket holding time `t`: aligned to the UTC epoch, weeks start Monday 00:00 UTC. */
export function bucketStart(t: number, tf: Timeframe): number {
  const size = TIMEFRAME_MS[tf];
  if (tf === '1w') return Math.floor((t - MONDAY_OFFSET) / size) * size + MONDAY_OFFSET;
  return Math.floor(t / size) * size;
}

/**
 * Aggregates bars into a larger timeframe: open = first, high = max, low = min, close = last, volume = sum; the
 * bar time is the bucket start. Buckets with no input bars are not created; first and last buckets may be partial.
 * Extra columns are not carried. Downsampling (to a smaller timeframe) is a ValidationError.
 */
export function resample(c: BarColumns, from: Timeframe, to: Timeframe): BarColumns {
  const fromMs = TIMEFRAME_MS[from];
  const toMs = TIMEFRAME_MS[to];
  if (toMs < fromMs)
    throw new ValidationError(`cannot resample ${from} down to ${to} (only to a larger timeframe)`, 'to');
  if (toMs % fromMs !== 0) throw new ValidationError(`${to} is not a whole multiple of ${from}`, 'to');
  const n = c.length;
  const time = new Float64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  let k = -1;
  let bucket = Number.NaN;
  for (let i = 0; i < n; i++) {
    const b = bucketStart(c.time[i], to);
    if (b !== bucket) {
      if (k >= 0 && b < bucket) throw new ValidationError('bars must be in ascending time order to resample', 'time');
      bucket = b;
      k++;
      time[k] = b;
      open[k] = c.open[i];
      high[k] = c.high[i];
      low[k] = c.low[i];
      volume[k] = 0;
    } else {
      if (c.high[i] > high[k]) high[k] = c.high[i];
      if (c.low[i] < low[k]) low[k] = c.low[i];
    }
    close[k] = c.close[i];
    volume[k] += c.volume[i];
  }
  const m = k + 1;
  return {
    length: m,
    time: time.slice(0, m),
    open: open.slice(0, m),
    high: high.slice(0, m),
    low: low.slice(0, m),
    close: close.slice(0, m),
    volume: volume.slice(0, m),
  };
}
