/**
 * The physical limit the engine is measured against (issue 11, PERF-1): a bare JavaScript loop doing what
 * `sma-cross` 10/30 with full accounting does on the same bars — the same streaming SMAs (ring buffer, the sum
 * re-added once per window), the crossover, a market order filled at the next bar's open, 95% of the cash per
 * entry rounded down to the lot, the fee on both sides, and one equity point per bar — with no engine, no order
 * objects and no events. Only the bench uses it.
 */
import type { BarColumns } from '../src/core/bar.js';

/** What the bare loop ends with (compared with the engine's result by the bench). */
export interface BareLoopResult {
  trades: number;
  finalEquity: number;
  /** Equity points written (one per bar). */
  points: number;
}

/** Runs the bare crossover loop over `c` with a fast/slow SMA, `cash`, a fee rate and a lot size. */
export function bareSmaCrossLoop(
  c: BarColumns,
  fast: number,
  slow: number,
  cash0: number,
  fee: number,
  lot: number,
  equity: Float64Array,
): BareLoopResult {
  const open = c.open;
  const close = c.close;
  const n = c.length;
  const bufF = new Float64Array(fast);
  const bufS = new Float64Array(slow);
  let iF = 0;
  let iS = 0;
  let nF = 0;
  let nS = 0;
  let sumF = 0;
  let sumS = 0;
  let prev = Number.NaN;
  let cash = cash0;
  let qty = 0;
  // Pending market order for the next open: +1 buy, -1 sell, 0 none.
  let pending = 0;
  let trades = 0;
  for (let i = 0; i < n; i++) {
    if (pending !== 0) {
      const px = open[i];
      if (pending > 0) {
        const q = Math.floor((cash * 0.95) / px / lot) * lot;
        if (q > 0) {
          cash -= q * px * (1 + fee);
          qty = q;
        }
      } else if (qty > 0) {
        cash += qty * px * (1 - fee);
        qty = 0;
        trades++;
      }
      pending = 0;
    }
    const x = close[i];
    if (nF === fast) sumF += x - bufF[iF];
    else {
      nF++;
      sumF += x;
    }
    bufF[iF] = x;
    if (++iF === fast) {
      iF = 0;
      let s = 0;
      for (let k = 0; k < fast; k++) s += bufF[k];
      sumF = s;
    }
    if (nS === slow) sumS += x - bufS[iS];
    else {
      nS++;
      sumS += x;
    }
    bufS[iS] = x;
    if (++iS === slow) {
      iS = 0;
      let s = 0;
      for (let k = 0; k < slow; k++) s += bufS[k];
      sumS = s;
    }
    const d = nF === fast && nS === slow ? sumF / fast - sumS / slow : Number.NaN;
    const p = prev;
    prev = d;
    if (d > 0 && p <= 0) {
      if (qty === 0) pending = 1;
    } else if (d < 0 && p >= 0) {
      if (qty > 0) pending = -1;
    }
    equity[i] = qty === 0 ? cash : cash + qty * x;
  }
  if (qty > 0) {
    cash += qty * close[n - 1] * (1 - fee);
    qty = 0;
    trades++;
  }
  return { trades, finalEquity: cash, points: n };
}
