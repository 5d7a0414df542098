/** A net position in one symbol; `quantity` is signed (negative = short). */
export interface Position {
  symbol: string;
  strategyId?: string;
  quantity: number;
  averagePrice: number;
  realizedPnl: number;
  /** Time the current (non-zero) position was opened. */
  openedAt: number;
  fees: number;
  /**
   * The exact decimals of the booked position (docs/money.md) as decimal text, set where the exact ledger is the
   * account (paper and live); the doubles above are their nearest readings. Undefined in a backtest.
   */
  exact?: PositionExact;
}

/** A position's exact decimals as decimal text (signed quantity, like `Position.quantity`). */
export interface PositionExact {
  quantity: string;
  averagePrice: string;
  realizedPnl: string;
  fees: string;
}

/** Balance of one asset on a venue account. */
export interface Balance {
  asset: string;
  free: number;
  used: number;
  total: number;
}

/** Unrealised P&L of a position at `price` (multiplier for contracts). */
export function unrealizedPnl(p: Position, price: number, multiplier = 1): number {
  return (price - p.averagePrice) * p.quantity * multiplier;
}
