import type { Liquidity } from '../core/fill.js';

/** Fee of one execution in quote currency. */
export interface FeeModel {
  fee(notional: number, liquidity: Liquidity): number;
}

/** Percentage of notional, maker (resting limit) and taker (market, stop) rates; default 0.1% both. */
export class PercentFeeModel implements FeeModel {
  constructor(
    readonly maker = 0.001,
    readonly taker = 0.001,
  ) {}

  fee(notional: number, liquidity: Liquidity): number {
    return notional * (liquidity === 'maker' ? this.maker : this.taker);
  }
}
