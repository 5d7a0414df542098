/**
 * An IBKR order's quantity and prices from exact decimals, on the contract's grid (docs/money.md): the quantity
 * toward zero onto whole shares or contracts, a limit price to the passive side of `minTick`, a stop trigger away
 * from the market — never a float step. The numbers handed to the TWS client are the nearest doubles of decimals
 * of a few digits, which it writes as that decimal text.
 */
import { exact, priceRounding, quantise } from '../../core/money.js';
import type { OrderSide } from '../../core/order.js';

/** IBKR's lot: whole shares or contracts (`fetchInstruments` reports lotSize 1). */
const LOT = exact(1);

/** What an order sends, as given: doubles, with the bridge's exact text beside them when it set it. */
export interface IbAmountsRequest {
  side: OrderSide;
  quantity: number;
  price?: number;
  stopPrice?: number;
  exact?: { quantity?: string; price?: string; stopPrice?: string };
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
  if (req.price !== undefined) {
    const p = exact(req.exact?.price ?? req.price, 'order price');
    out.price = quantise(p, tick, priceRounding(req.side, 'limit')).toNumber();
  }
  if (req.stopPrice !== undefined) {
    const s = exact(req.exact?.stopPrice ?? req.stopPrice, 'order stop price');
    out.stopPrice = quantise(s, tick, priceRounding(req.side, 'stop')).toNumber();
  }
  return out;
}
