/** A single OHLCV bar. `time` is the bar's open time in epoch milliseconds UTC. */
export interface Bar {
  time: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/**
 * Columnar OHLCV: one Float64Array per field, all of `length` rows, times ascending.
 * This is the form the store loads and the backtest loop reads; bars are never allocated as objects in hot loops.
 */
export interface BarColumns {
  readonly length: number;
  readonly time: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  /** Extra numeric columns carried with the data (e.g. precomputed `enter_long` signals). */
  readonly extra?: Readonly<Record<string, Float64Array>>;
  /** Extra text columns (e.g. `enter_tag`), one entry per row. */
  readonly extraText?: Readonly<Record<string, readonly string[]>>;
}

/** Allocates empty columns for `length` rows. */
export function allocateBarColumns(length: number): BarColumns {
  return {
    length,
    time: new Float64Array(length),
    open: new Float64Array(length),
    high: new Float64Array(length),
    low: new Float64Array(length),
    close: new Float64Array(length),
    volume: new Float64Array(length),
  };
}

/** Builds columns from bar objects (for tests and small imports, not hot paths). */
export function barsToColumns(bars: readonly Bar[]): BarColumns {
  const c = allocateBarColumns(bars.length);
  for (let i = 0; i < bars.length; i++) {
    const b = bars[i];
    c.time[i] = b.time;
    c.open[i] = b.open;
    c.high[i] = b.high;
    c.low[i] = b.low;
    c.close[i] = b.close;
    c.volume[i] = b.volume;
  }
  return c;
}

/** Reads row `i` of columns as a bar object (allocates; for tests, reports and edges). */
export function barAt(c: BarColumns, i: number): Bar {
  return { time: c.time[i], open: c.open[i], high: c.high[i], low: c.low[i], close: c.close[i], volume: c.volume[i] };
}

/** Returns rows [from, to) as a new set of columns sharing no memory with the input. */
export function sliceColumns(c: BarColumns, from: number, to: number): BarColumns {
  const extra: Record<string, Float64Array> | undefined = c.extra
    ? Object.fromEntries(Object.entries(c.extra).map(([k, v]) => [k, v.slice(from, to)]))
    : undefined;
  const extraText: Record<string, string[]> | undefined = c.extraText
    ? Object.fromEntries(Object.entries(c.extraText).map(([k, v]) => [k, v.slice(from, to)]))
    : undefined;
  return {
    length: Math.max(0, to - from),
    time: c.time.slice(from, to),
    open: c.open.slice(from, to),
    high: c.high.slice(from, to),
    low: c.low.slice(from, to),
    close: c.close.slice(from, to),
    volume: c.volume.slice(from, to),
    ...(extra ? { extra } : {}),
    ...(extraText ? { extraText } : {}),
  };
}

/** A top-of-book quote / last trade update for one symbol. */
export interface Tick {
  symbol: string;
  time: number;
  bid: number;
  ask: number;
  last: number;
  volume: number;
}

/** One price level of an order book. */
export interface BookLevel {
  price: number;
  quantity: number;
}

/** An order book snapshot: bids descending, asks ascending. */
export interface OrderBook {
  symbol: string;
  time: number;
  bids: BookLevel[];
  asks: BookLevel[];
}

/** A venue ticker (24h stats plus top of book). */
export interface Ticker {
  symbol: string;
  time: number;
  bid: number;
  ask: number;
  last: number;
  high?: number;
  low?: number;
  volume?: number;
}
