import type { OrderSide } from '../core/order.js';
import type { BarLike } from '../engine/execution-venue.js';

/** Moves a taker execution price against the trader. Maker (limit) fills are not slipped. */
export interface SlippageModel {
  apply(side: OrderSide, price: number, quantity: number, bar: BarLike): number;
}

/** No slippage (the default). */
export const NO_SLIPPAGE: SlippageModel = { apply: (_side, price) => price };

/** A fixed price amount: buys pay `amount` more, sells receive `amount` less. */
export class FixedSlippage implements SlippageModel {
  constructor(readonly amount: number) {}

  apply(side: OrderSide, price: number): number {
    return side === 'buy' ? price + this.amount : price - this.amount;
  }
}

/** A fraction of the price (0.0005 = 5 bp) against the trader. */
export class PercentSlippage implements SlippageModel {
  constructor(readonly rate: number) {}

  apply(side: OrderSide, price: number): number {
    return side === 'buy' ? price * (1 + this.rate) : price * (1 - this.rate);
  }
}

/**
 * Volume-share slippage (the LEAN/Zipline model): impact = priceImpact x (quantity / bar volume)^2, with the
 * share capped at `volumeLimit`. Bigger orders in thinner bars pay more.
 */
export class VolumeShareSlippage implements SlippageModel {
  constructor(
    readonly priceImpact = 0.1,
    readonly volumeLimit = 0.025,
  ) {}

  apply(side: OrderSide, price: number, quantity: number, bar: BarLike): number {
    const share = bar.volume > 0 ? Math.min(this.volumeLimit, quantity / bar.volume) : this.volumeLimit;
    const impact = this.priceImpact * share * share;
    return side === 'buy' ? price * (1 + impact) : price * (1 - impact);
  }
}

/** Slippage settings as the CLI/config give them. */
export type SlippageSpec =
  | { model: 'none' }
  | { model: 'fixed'; amount: number }
  | { model: 'percentage'; rate: number }
  | { model: 'volume-share'; priceImpact?: number; volumeLimit?: number };

/** Builds a slippage model from its settings. */
export function slippageFromSpec(spec: SlippageSpec | undefined): SlippageModel {
  if (spec === undefined) return NO_SLIPPAGE;
  switch (spec.model) {
    case 'fixed':
      return new FixedSlippage(spec.amount);
    case 'percentage':
      return new PercentSlippage(spec.rate);
    case 'volume-share':
      return new VolumeShareSlippage(spec.priceImpact, spec.volumeLimit);
    default:
      return NO_SLIPPAGE;
  }
}
