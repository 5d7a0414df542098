import type { BarColumns } from '../src/core/bar.js';
import { barsToColumns } from '../src/core/bar.js';

/** Start of the hand-built candles used by the backtest tests. */
export const T0 = Date.UTC(2024, 0, 1);
export const DAY = 86_400_000;
export const MIN = 60_000;

/** Builds columns from [open, high, low, close, volume?] rows, one per `step` ms from T0. */
export function candles(rows: readonly (readonly number[])[], step = DAY): BarColumns {
  return barsToColumns(
    rows.map((r, i) => ({ time: T0 + i * step, open: r[0], high: r[1], low: r[2], close: r[3], volume: r[4] ?? 1e9 })),
  );
}
