/** One position for the exposure breakdown. */
export interface ExposurePosition {
  symbol: string;
  strategy?: string;
  venue?: string;
  /** Signed value: quantity × price × multiplier. */
  value: number;
}

/** Long, short, gross and net value of one group, and its gross share of equity. */
export interface ExposureRow {
  key: string;
  long: number;
  short: number;
  gross: number;
  net: number;
  /** gross / equity (NaN without positive equity). */
  grossShare: number;
}

/** Exposure by symbol, strategy and venue, and the total (RISK-8). */
export interface ExposureBreakdown {
  total: ExposureRow;
  bySymbol: ExposureRow[];
  byStrategy: ExposureRow[];
  byVenue: ExposureRow[];
}

function group(
  positions: readonly ExposurePosition[],
  keyOf: (p: ExposurePosition) => string,
  equity: number,
): ExposureRow[] {
  const rows = new Map<string, ExposureRow>();
  for (const p of positions) {
    const key = keyOf(p);
    let r = rows.get(key);
    if (r === undefined) rows.set(key, (r = { key, long: 0, short: 0, gross: 0, net: 0, grossShare: 0 }));
    if (p.value >= 0) r.long += p.value;
    else r.short += -p.value;
    r.gross += Math.abs(p.value);
    r.net += p.value;
  }
  const out = [...rows.values()];
  for (const r of out) r.grossShare = equity > 0 ? r.gross / equity : Number.NaN;
  // Largest first: the concentration a reader looks for.
  return out.sort((a, b) => b.gross - a.gross || a.key.localeCompare(b.key));
}

/** Groups position values by symbol, strategy and venue ("-" when a position has none). */
export function exposureBreakdown(positions: readonly ExposurePosition[], equity: number): ExposureBreakdown {
  return {
    total: group(positions, () => 'total', equity)[0] ?? {
      key: 'total',
      long: 0,
      short: 0,
      gross: 0,
      net: 0,
      grossShare: 0,
    },
    bySymbol: group(positions, (p) => p.symbol, equity),
    byStrategy: group(positions, (p) => p.strategy ?? '-', equity),
    byVenue: group(positions, (p) => p.venue ?? '-', equity),
  };
}
