/**
 * An IBKR order's quantity and prices from exact decimals, on the contract's grid (docs/money.md): the quantity
 * toward zero onto whole shares or contracts, a limit price to the passive side of `minTick`, a stop trigger away
 * from the market — never a float step. The numbers handed to the TWS client are the nearest doubles of decimals
 * of a few digits, which it writes as that decimal text.
 */
import { type Exact, exact, priceRounding, quantise } from '../../core/money.js';
import type { OrderSide } from '../../core/order.js';

/** IBKR's lot: whole shares or contracts (`fetchInstruments` reports lotSize 1). */
const LOT = exact(1);

/**
 * What an order sends, as given: doubles, with the exact text or values beside them when there are any (the bridge's
 * text; a modification's new terms). An exact amount wins over its double, and is sent even without one.
 */
export interface IbAmountsRequest {
  side: OrderSide;
  quantity: number;
  price?: number;
  stopPrice?: number;
  exact?: { quantity?: string | Exact; price?: string | Exact; stopPrice?: string | Exact };
}

/** The quantity, limit price and trigger as sent to TWS. */
export interface IbAmounts {
  quantity: number;
  price?: number;
  stopPrice?: number;
}

/** The request's amounts on the contract's grid (`minTick`; 0.01 when TWS gave none). */
export function ibOrderAmounts(req: IbAmountsRequest, minTick: number): IbAmounts {
  const tick = exact(minTick > 0 ? minTick : 0.01, 'IBKR minTick');
  const out: IbAmounts = {
    quantity: quantise(exact(req.exact?.quantity ?? req.quantity, 'order quantity'), LOT, 'toward_zero').toNumber(),
  };
  const price = req.exact?.price ?? req.price;
  if (price !== undefined) {
    out.price = quantise(exact(price, 'order price'), tick, priceRounding(req.side, 'limit')).toNumber();
  }
  const stopPrice = req.exact?.stopPrice ?? req.stopPrice;
  if (stopPrice !== undefined) {
    out.stopPrice = quantise(exact(stopPrice, 'order stop price'), tick, priceRounding(req.side, 'stop')).toNumber();
  }
  return out;
}
