import type { Order, OrderIntent, OrderSide, OrderType } from '../core/order.js';
import type { Timeframe } from '../core/timeframe.js';
import type { LogLevel, OrderOptions, ParamValues, PortfolioView, StrategyContext } from '../strategy/types.js';
import type { Engine } from './engine.js';
import type { BarView, HistoryView } from './market-data.js';

/**
 * The StrategyContext the engine hands to every hook: one object per run whose `bar`, `symbol` and `time`
 * the engine updates in place before each call. Order helpers build OrderIntents and send them down the one
 * order path (risk hook -> execution engine -> venue).
 */
export class EngineContext implements StrategyContext {
  bar: BarView;
  symbol: string;
  symbolIndex = 0;
  time = Number.NaN;
  readonly strategyId: string;
  readonly portfolio: PortfolioView;
  private warnedShort = false;

  constructor(
    private readonly engine: Engine,
    readonly symbols: readonly string[],
    readonly timeframe: Timeframe,
    readonly params: ParamValues,
  ) {
    this.strategyId = engine.strategyId;
    this.portfolio = engine.portfolio;
    this.bar = engine.feeds[0].bar;
    this.symbol = symbols[0];
  }

  history(symbol?: string, timeframe?: Timeframe): HistoryView {
    const feed = this.engine.feeds[symbol === undefined ? this.symbolIndex : this.engine.indexOf(symbol)];
    return timeframe === undefined ? feed.baseHistory() : feed.higherHistory(timeframe);
  }

  value(column: string, ago = 0, symbol?: string): number {
    return this.engine.feeds[this.idx(symbol)].extra(column, ago);
  }

  text(column: string, ago = 0, symbol?: string): string | undefined {
    return this.engine.feeds[this.idx(symbol)].extraText(column, ago);
  }

  position(symbol?: string): number {
    return this.engine.portfolio.qty[this.idx(symbol)];
  }

  openOrders(symbol?: string): readonly Readonly<Order>[] {
    return this.engine.exec
      .openOrders()
      .filter((o) => o.strategyId === this.strategyId && (symbol === undefined || o.symbol === symbol));
  }

  buy(opts?: OrderOptions): Order | null {
    return this.enter('buy', opts);
  }

  short(opts?: OrderOptions): Order | null {
    if (!this.engine.allowShort) {
      if (!this.warnedShort) {
        this.warnedShort = true;
        this.log('short() ignored: shorting is not allowed in this run (use --allow-short)', 'warn');
      }
      return null;
    }
    return this.enter('sell', opts);
  }

  sell(opts?: OrderOptions): Order | null {
    return this.exit(1, opts);
  }

  cover(opts?: OrderOptions): Order | null {
    return this.exit(-1, opts);
  }

  close(symbol?: string, tag?: string): Order | null {
    const q = this.engine.portfolio.qty[this.idx(symbol)];
    if (q === 0) return null;
    return this.exit(q > 0 ? 1 : -1, { ...(symbol !== undefined ? { symbol } : {}), ...(tag ? { tag } : {}) });
  }

  limit(side: OrderSide, price: number, opts?: OrderOptions): Order | null {
    return this.priced(side, 'limit', price, undefined, opts);
  }

  stop(side: OrderSide, stopPrice: number, opts?: OrderOptions): Order | null {
    return this.priced(side, 'stop', undefined, stopPrice, opts);
  }

  stopLimit(side: OrderSide, stopPrice: number, price: number, opts?: OrderOptions): Order | null {
    return this.priced(side, 'stop_limit', price, stopPrice, opts);
  }

  cancel(orderId: string): void {
    this.engine.exec.cancel(orderId, 'strategy');
  }

  stakeQuantity(price: number, symbol?: string): number {
    return this.engine.stakeQuantity(this.idx(symbol), price);
  }

  log(message: string, level: LogLevel = 'info'): void {
    this.engine.writeLog(level, `[${this.strategyId}] ${message}`);
  }

  private idx(symbol: string | undefined): number {
    return symbol === undefined ? this.symbolIndex : this.engine.indexOf(symbol);
  }

  // Market entry: one open position per symbol unless the run allows more.
  private enter(side: OrderSide, opts: OrderOptions | undefined): Order | null {
    const e = this.engine;
    const s = this.idx(opts?.symbol);
    const q = e.portfolio.qty[s];
    const dir = side === 'buy' ? 1 : -1;
    if (e.oneOpenPositionPerSymbol && (q * dir > 0 || e.hasOpenEntry(s, side))) {
      if (q * dir > 0) e.noteEntrySignal(s, dir);
      return null;
    }
    // Freqtrade's max_open_trades: an entry with every slot taken is skipped, as there.
    if (e.maxOpenTrades !== Number.POSITIVE_INFINITY && q === 0 && e.openTrades() >= e.maxOpenTrades) return null;
    const symbol = e.feeds[s].symbol;
    const close = e.feeds[s].bar.close;
    const quantity = opts?.quantity ?? e.stakeQuantity(s, close);
    if (!(quantity > 0)) {
      if (!e.refuseStakeQuietly(s, close)) {
        e.reject(
          this.intent(symbol, side, 'market', quantity, opts),
          'INSUFFICIENT_FUNDS',
          stakeRefusalDetail(symbol, close),
        );
      }
      return null;
    }
    return e.submitIntent(this.intent(symbol, side, 'market', quantity, opts));
  }

  // Market close of a long (dir 1) or short (dir -1): reduce-only, the whole position unless told less.
  private exit(dir: number, opts: OrderOptions | undefined): Order | null {
    const e = this.engine;
    const s = this.idx(opts?.symbol);
    const q = e.portfolio.qty[s];
    // useExitSignal: false ignores the strategy's closes (Freqtrade's use_exit_signal); the exit rules still run.
    if (q * dir <= 0 || !e.exits.useExitSignal) return null;
    const quantity = Math.min(opts?.quantity ?? Math.abs(q), Math.abs(q));
    const intent = this.intent(e.feeds[s].symbol, dir > 0 ? 'sell' : 'buy', 'market', quantity, opts, true);
    return e.submitIntent(intent);
  }

  private priced(
    side: OrderSide,
    type: OrderType,
    price: number | undefined,
    stopPrice: number | undefined,
    opts: OrderOptions | undefined,
  ): Order | null {
    const e = this.engine;
    const s = this.idx(opts?.symbol);
    const q = e.portfolio.qty[s];
    const ref = price ?? stopPrice ?? e.feeds[s].bar.close;
    const quantity = opts?.quantity ?? (opts?.reduceOnly ? Math.abs(q) : e.stakeQuantity(s, ref));
    const intent = this.intent(e.feeds[s].symbol, side, type, quantity, opts);
    if (price !== undefined) intent.price = price;
    if (stopPrice !== undefined) intent.stopPrice = stopPrice;
    if (!(quantity > 0)) {
      e.reject(intent, 'INSUFFICIENT_FUNDS', `order quantity for ${intent.symbol} rounds to zero`);
      return null;
    }
    if (side === 'sell' && !e.allowShort && quantity > Math.max(0, q) * (1 + 1e-9)) {
      e.reject(intent, 'SHORT_NOT_ALLOWED', `sell ${quantity} ${intent.symbol} would open a short (position ${q})`);
      return null;
    }
    return e.submitIntent(intent);
  }

  private intent(
    symbol: string,
    side: OrderSide,
    type: OrderType,
    quantity: number,
    opts: OrderOptions | undefined,
    close = false,
  ): OrderIntent {
    // A close's flag is part of the literal: set afterwards it would add a property (and an allocation) per order.
    const intent: OrderIntent = close
      ? {
          strategyId: this.strategyId,
          symbol,
          side,
          type,
          quantity,
          signalTime: this.time,
          source: 'strategy',
          reduceOnly: true,
        }
      : { strategyId: this.strategyId, symbol, side, type, quantity, signalTime: this.time, source: 'strategy' };
    if (opts !== undefined) {
      if (opts.tag !== undefined) intent.tag = opts.tag;
      if (opts.timeInForce !== undefined) intent.timeInForce = opts.timeInForce;
      if (opts.clientOrderId !== undefined) intent.clientOrderId = opts.clientOrderId;
      if (!close && opts.reduceOnly !== undefined) intent.reduceOnly = opts.reduceOnly;
    }
    return intent;
  }
}

/** The text of a refused entry whose stake buys no whole lot: the one home of it (quiet and full records). */
export function stakeRefusalDetail(symbol: string, price: number): string {
  return `stake buys no whole lot of ${symbol} at ${price}`;
}
