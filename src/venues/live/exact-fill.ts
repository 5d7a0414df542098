import type { Instrument } from '../../core/instrument.js';
import { Exact, exact, quantisePrice, quantiseQuantity, ZERO } from '../../core/money.js';
import type { OrderSide } from '../../core/order.js';
import type { ExactExecution } from '../../core/fill.js';
import type { VenueFill } from '../../core/venue.js';

/** A venue fill in exact terms, as the live path books it (the core's `ExactExecution`). */
export type ExactFill = ExactExecution;

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
  // The decimal text the venue sent when the adapter kept it; else the double, read at 15 significant digits.
  const rawPrice = f.exact?.price ?? f.price;
  const rawQuantity = f.exact?.quantity ?? f.quantity;
  const price = inst ? quantisePrice(inst, rawPrice, side, 'fill') : exact(rawPrice, 'fill price');
  const executed = inst ? quantiseQuantity(inst, rawQuantity) : exact(rawQuantity, 'fill quantity');
  const venueFee = exact(f.exact?.fee ?? f.fee, 'fill fee');
  if (!feeInBase) return { price, executed, booked: executed, fee: venueFee };
  if (side !== 'buy') return { price, executed, booked: executed, fee: venueFee.mul(price) };
  const credited = Exact.max(ZERO, executed.minus(venueFee));
  const booked = inst ? quantiseQuantity(inst, credited) : credited;
  return { price, executed, booked, fee: executed.minus(booked).mul(price) };
}
