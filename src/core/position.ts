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
