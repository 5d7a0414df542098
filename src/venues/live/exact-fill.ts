import type { Instrument } from '../../core/instrument.js';
import { Exact, exact, type Money, type Quantity, quantisePrice, quantiseQuantity, ZERO } from '../../core/money.js';
import type { OrderSide } from '../../core/order.js';
import type { VenueFill } from '../../core/venue.js';

/** A venue fill in exact terms, as the live path books it. */
export interface ExactFill {
  /** The fill price on the instrument's tick (nearest, ties to even). */
  price: Money;
  /** What the venue executed, on the lot (toward zero). */
  executed: Quantity;
  /** What the account was credited: `executed`, less a fee a spot buy pays in the base asset, in whole lots. */
  booked: Quantity;
  /** The fee in quote currency (a fee in the base asset valued at the fill price). */
  fee: Money;
}

/**
 * A venue fill read exactly at the boundary (docs/money.md): price to the tick, quantity to the lot, the fee as the
 * decimal the venue sent. A spot buy whose fee is taken in the base asset credits less than it executed: the
 * credit is booked in whole lots (toward zero), so the position can always be sold to zero, and the sub-lot rest —
 * dust left on the account — is counted with the fee at the fill price. Without an instrument (a venue that gave
 * none) the values are read exactly and not quantised.
 */
export function exactFillOf(
  inst: Instrument | undefined,
  side: OrderSide,
  f: VenueFill,
  feeInBase: boolean,
): ExactFill {
  const price = inst ? quantisePrice(inst, f.price, side, 'fill') : exact(f.price, 'fill price');
  const executed = inst ? quantiseQuantity(inst, f.quantity) : exact(f.quantity, 'fill quantity');
  const venueFee = exact(f.fee, 'fill fee');
  if (!feeInBase) return { price, executed, booked: executed, fee: venueFee };
  if (side !== 'buy') return { price, executed, booked: executed, fee: venueFee.mul(price) };
  const credited = Exact.max(ZERO, executed.minus(venueFee));
  const booked = inst ? quantiseQuantity(inst, credited) : credited;
  return { price, executed, booked, fee: executed.minus(booked).mul(price) };
}
