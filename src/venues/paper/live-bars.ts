/** Live updates as bars of the backtester's matching engine, and the models seen from a taker on them. */
import type { FillModel, ParticipationModel, RestingState } from '../../backtest/fill-model.js';
import { BarFillModel } from '../../backtest/fill-model.js';
import type { Instrument, Order, Subscription, Ticker } from '../../core/index.js';
import type { BarLike } from '../../engine/execution-venue.js';

/** A flat bar: all four prices the same (a quote or a last-trade price seen as a bar). */
export function flatBar(): BarLike {
  return { time: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };
}

/** Sets all four prices of `bar` to `price`. */
export function setFlat(bar: BarLike, time: number, price: number, volume: number): void {
  bar.time = time;
  bar.open = price;
  bar.high = price;
  bar.low = price;
  bar.close = price;
  bar.volume = volume;
}

/** Per-symbol live state: the latest update as bars and the price stream. */
export class SymbolBook {
  /** The latest ticker as the matching engine's bar: all four prices `last`. */
  readonly bar = flatBar();
  /** The same update seen from a taker: buys at the ask, sells at the bid. */
  readonly askBar = flatBar();
  readonly bidBar = flatBar();
  quote: Ticker | undefined;
  quoteAt = Number.NEGATIVE_INFINITY;
  prevVolume = Number.NaN;
  sub: Subscription | undefined;
  constructor(
    readonly inst: Instrument,
    /** The symbol's index in the matching engine. */
    readonly index: number,
  ) {}
}

/** The ask (buys) or bid (sells) bar of the symbol's latest update, where a taker's market order executes. */
export type TakerBar = (order: Order) => BarLike | undefined;

/** A fill model seen from a taker: market orders priced on the ask or bid bar of the update, the rest as `inner`. */
export class QuoteFillModel implements FillModel {
  constructor(
    private readonly inner: FillModel,
    private readonly takerBar: TakerBar,
  ) {}

  marketPrice(order: Order, bar: BarLike): number {
    return this.inner.marketPrice(order, this.takerBar(order) ?? bar);
  }

  restingPrice(order: Order, bar: BarLike, state: RestingState): number {
    return this.inner.restingPrice(order, bar, state);
  }
}

/** The default fill model seen from a taker: resting orders match without a wrapper's extra call per update. */
export class QuoteBarFillModel extends BarFillModel {
  constructor(private readonly takerBar: TakerBar) {
    super();
  }

  override marketPrice(order: Order, bar: BarLike): number {
    return super.marketPrice(order, this.takerBar(order) ?? bar);
  }
}

/** A participation cap that does not apply to updates of unknown volume (a feed without it): no cap, not no fill. */
export class KnownVolumeParticipation implements ParticipationModel {
  constructor(private readonly inner: ParticipationModel) {}

  maxQuantity(bar: BarLike): number {
    return Number.isNaN(bar.volume) ? Number.POSITIVE_INFINITY : this.inner.maxQuantity(bar);
  }
}
