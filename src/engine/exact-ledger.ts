import { Exact, type Money, type Quantity, ZERO } from '../core/money.js';

/**
 * The exact twin of the Portfolio's accounting (docs/money.md): cash, signed position, average price, realised P&L
 * and fees per symbol index, in decimals. The same average-cost rules as `Portfolio.applyFill` — buying debits cash
 * by the notional plus the fee, selling credits it; growing a position moves its average, reducing realises
 * (price − average) × quantity × multiplier, a fill past zero flips the position at the fill price.
 * Live and paper deployments book every fill here and read their doubles from it; a backtest keeps it beside its
 * double ledger and reports where the two part (`ledgerDivergence`).
 */
export class ExactLedger {
  cash: Money;
  realizedPnl: Money = ZERO;
  feesPaid: Money = ZERO;
  /** Signed quantity per symbol index. */
  readonly qty: Quantity[];
  readonly avg: Money[];
  readonly realizedBySymbol: Money[];
  readonly feesBySymbol: Money[];
  private readonly mult: Exact[];

  constructor(symbolCount: number, cash: Money, multipliers: readonly Exact[] = []) {
    this.cash = cash;
    this.qty = new Array<Quantity>(symbolCount).fill(ZERO);
    this.avg = new Array<Money>(symbolCount).fill(ZERO);
    this.realizedBySymbol = new Array<Money>(symbolCount).fill(ZERO);
    this.feesBySymbol = new Array<Money>(symbolCount).fill(ZERO);
    this.mult = Array.from({ length: symbolCount }, (_, i) => multipliers[i] ?? new Exact(1));
  }

  /** Books a cash flow that is not a fill (a perpetual's funding) into cash and realised P&L of symbol `s`. */
  applyCashFlow(s: number, amount: Money): void {
    this.cash = this.cash.plus(amount);
    this.realizedPnl = this.realizedPnl.plus(amount);
    this.realizedBySymbol[s] = this.realizedBySymbol[s].plus(amount);
  }

  /** Books one execution of `quantity` (> 0) at `price` with `fee` in quote; `sideSign` is +1 buy, −1 sell. */
  applyFill(s: number, sideSign: 1 | -1, quantity: Quantity, price: Money, fee: Money): void {
    const m = this.mult[s];
    const notional = quantity.mul(price).mul(m);
    this.cash = sideSign > 0 ? this.cash.minus(notional).minus(fee) : this.cash.plus(notional).minus(fee);
    this.feesPaid = this.feesPaid.plus(fee);
    this.feesBySymbol[s] = this.feesBySymbol[s].plus(fee);
    const q = this.qty[s];
    const signed = sideSign > 0 ? quantity : quantity.neg();
    if (q.isZero() || q.isPositive() === sideSign > 0) {
      this.avg[s] = q.isZero() ? price : this.avg[s].mul(q.abs()).plus(price.mul(quantity)).div(q.abs().plus(quantity));
      this.qty[s] = q.plus(signed);
      return;
    }
    const absQ = q.abs();
    const closeQty = Exact.min(quantity, absQ);
    const pnl = q.isPositive()
      ? price.minus(this.avg[s]).mul(closeQty).mul(m)
      : this.avg[s].minus(price).mul(closeQty).mul(m);
    this.realizedPnl = this.realizedPnl.plus(pnl);
    this.realizedBySymbol[s] = this.realizedBySymbol[s].plus(pnl);
    this.qty[s] = q.plus(signed);
    // Past zero: the rest opens a position the other way at the fill price.
    if (quantity.gt(absQ)) this.avg[s] = price;
    else if (this.qty[s].isZero()) this.avg[s] = ZERO;
  }
}
