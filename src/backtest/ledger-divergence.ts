import { decimalText } from '../core/money.js';
import { exact } from '../core/money.js';
import { ExactLedger } from '../engine/exact-ledger.js';
import type { FillLog } from '../engine/fill-log.js';
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

/**
 * The exact ledger of a run's fills: the portfolio's starting cash and multipliers, every fill of `fills` booked
 * in decimals, in order (what a `shadow` ledger would hold, built after the run instead of during it).
 */
export function exactLedgerOfFills(pf: Portfolio, fills: FillLog): ExactLedger {
  const n = pf.symbols.length;
  const ledger = new ExactLedger(
    n,
    exact(pf.initialCash, 'cash'),
    Array.from({ length: n }, (_, i) => exact(pf.mult[i], 'multiplier')),
  );
  fills.replay((s, side, quantity, price, fee) =>
    ledger.applyFill(s, side, exact(quantity, 'fill quantity'), exact(price, 'fill price'), exact(fee, 'fee')),
  );
  return ledger;
}

/**
 * The divergence of the portfolio's doubles from an exact ledger of the same fills (default: the one it kept),
 * or null when they agree to the cent or there is none.
 */
export function ledgerDivergence(pf: Portfolio, x: ExactLedger | null = pf.exact): LedgerDivergence | null {
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
