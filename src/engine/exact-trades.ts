import type { ClosedTradeExact } from '../core/events.js';
import { decimalText, type Exact, type Money, type Quantity, ZERO } from '../core/money.js';

/**
 * The round-trip bookkeeping of the Portfolio in exact decimals (docs/money.md, "Closed trades"), kept where the
 * exact ledger is the account (paper and live). Per symbol index it sums the open trip's entry and exit quantities,
 * Σ price × quantity of each side and its fees; the Portfolio's double bookkeeping decides when a trip starts, grows,
 * shrinks and ends, and this class books the same steps with the fill's exact amounts.
 */
export class ExactTrips {
  private readonly entryQty: Quantity[];
  private readonly entryNotional: Money[];
  private readonly exitQty: Quantity[];
  private readonly exitNotional: Money[];
  private readonly fees: Money[];

  constructor(
    symbolCount: number,
    private readonly mult: readonly Exact[],
  ) {
    this.entryQty = new Array<Quantity>(symbolCount).fill(ZERO);
    this.entryNotional = new Array<Money>(symbolCount).fill(ZERO);
    this.exitQty = new Array<Quantity>(symbolCount).fill(ZERO);
    this.exitNotional = new Array<Money>(symbolCount).fill(ZERO);
    this.fees = new Array<Money>(symbolCount).fill(ZERO);
  }

  /** Starts a new trip of `s` (its position was flat). */
  start(s: number): void {
    this.entryQty[s] = ZERO;
    this.entryNotional[s] = ZERO;
    this.exitQty[s] = ZERO;
    this.exitNotional[s] = ZERO;
    this.fees[s] = ZERO;
  }

  /** A fill of `quantity` at `price` with `fee` that grows the trip of `s`. */
  grow(s: number, quantity: Quantity, price: Money, fee: Money): void {
    this.entryQty[s] = this.entryQty[s].plus(quantity);
    this.entryNotional[s] = this.entryNotional[s].plus(price.mul(quantity));
    this.fees[s] = this.fees[s].plus(fee);
  }

  /**
   * A fill against the trip of `s`, whose position holds `held` (unsigned, before the fill): the part up to `held`
   * closes, with its share of the fee. Returns what is left of the fill past the position (a flip), and its fee.
   */
  reduce(s: number, quantity: Quantity, price: Money, fee: Money, held: Quantity): { rest: Quantity; restFee: Money } {
    const closeQty = quantity.gt(held) ? held : quantity;
    // The fee splits by quantity only when the fill flips the position; a plain reduction keeps it whole.
    const closeFee = closeQty.eq(quantity) ? fee : fee.mul(closeQty).div(quantity);
    this.exitQty[s] = this.exitQty[s].plus(closeQty);
    this.exitNotional[s] = this.exitNotional[s].plus(price.mul(closeQty));
    this.fees[s] = this.fees[s].plus(closeFee);
    return { rest: quantity.minus(closeQty), restFee: fee.minus(closeFee) };
  }

  /**
   * Ends the trip of `s` (`dir` +1 long, −1 short): its exact decimals, or undefined when it has no entry or no exit
   * to average (only when the double bookkeeping closed a trip that the exact amounts do not: the record then
   * keeps its doubles). Prices are Σ price × quantity / Σ quantity, the one division (40 significant digits); P&L
   * is the difference of the two sums when the trip exited what it entered, as it does on the lot grid.
   */
  close(s: number, dir: 1 | -1): ClosedTradeExact | undefined {
    const qty = this.entryQty[s];
    const exitQty = this.exitQty[s];
    if (qty.isZero() || exitQty.isZero()) return undefined;
    const m = this.mult[s];
    const entryPrice = this.entryNotional[s].div(qty);
    const exitPrice = this.exitNotional[s].div(exitQty);
    const gross = exitQty.eq(qty)
      ? this.exitNotional[s].minus(this.entryNotional[s]).mul(m)
      : exitPrice.minus(entryPrice).mul(qty).mul(m);
    const pnl = (dir > 0 ? gross : gross.neg()).minus(this.fees[s]);
    return {
      entryPrice: decimalText(entryPrice),
      exitPrice: decimalText(exitPrice),
      quantity: decimalText(qty),
      fees: decimalText(this.fees[s]),
      pnl: decimalText(pnl),
    };
  }
}
