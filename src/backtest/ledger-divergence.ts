import { decimalText } from '../core/money.js';
import type { Portfolio } from '../engine/portfolio.js';

/** One amount as the double ledger and the exact ledger hold it (exact as a decimal string). */
export interface LedgerPair {
  double: number;
  exact: string;
}

/**
 * Where a backtest's double ledger parts from the exact ledger kept beside it (docs/money.md): cash, realised
 * P&L and fees of the whole account. Present on a result only when one of them differs by half a cent or more.
 */
export interface LedgerDivergence {
  cash: LedgerPair;
  realizedPnl: LedgerPair;
  fees: LedgerPair;
  /** The largest absolute difference of the three, in quote currency. */
  largest: number;
}

/** Half a cent: two amounts this close print the same to the cent. */
export const CENT_TOLERANCE = 0.005;

/** The divergence of the portfolio's doubles from its exact ledger, or null when they agree to the cent. */
export function ledgerDivergence(pf: Portfolio): LedgerDivergence | null {
  const x = pf.exact;
  if (x === null) return null;
  const pair = (double: number, exact: typeof x.cash): [LedgerPair, number] => [
    { double, exact: decimalText(exact) },
    Math.abs(exact.minus(double.toPrecision(17)).toNumber()),
  ];
  const [cash, dc] = pair(pf.cash, x.cash);
  const [realizedPnl, dr] = pair(pf.realizedPnl, x.realizedPnl);
  const [fees, df] = pair(pf.feesPaid, x.feesPaid);
  const largest = Math.max(dc, dr, df);
  return largest >= CENT_TOLERANCE ? { cash, realizedPnl, fees, largest } : null;
}
