/**
 * Futures mode of the ccxt adapter (Binance USDⓈ-M through ccxt's `binanceusdm`): our symbols (`BTC/USDT`) against
 * ccxt's perpetual ones (`BTC/USDT:USDT`), leverage and margin mode set at start, positions with their leverage,
 * margin mode and liquidation price, the funding rate and the funding payments, and the free-margin floor on the
 * venue's own figures.
 */
import ccxt, { type Exchange, type Position as CcxtPosition } from 'ccxt';
import type { Balance, Position } from '../../core/index.js';
import { VenueError } from '../../core/index.js';
import { VENUE_CODES } from './errors.js';

/** Futures settings of a ccxt venue (`futures` in the venue's options). */
export interface CcxtFuturesOptions {
  /** Leverage set on every traded symbol at connect (1..125); absent: the venue's current leverage is kept. */
  leverage?: number;
  /** Margin mode set on every traded symbol at connect; absent: kept as the venue has it. */
  marginMode?: 'cross' | 'isolated';
  /**
   * Free-margin floor as a fraction of equity (0..1): a new order that opens exposure is refused
   * (VENUE_INSUFFICIENT_FUNDS) when the venue's available balance less its margin would fall below it.
   */
  marginFloor?: number;
  /**
   * The price a stop triggers on: `contract` (the last trade, Binance's default) or `mark` (the mark price, which a
   * wick on the contract's own book does not move).
   */
  stopTrigger?: 'mark' | 'contract';
}

/** A futures position as the venue reports it, beyond the core `Position`. */
export interface FuturesPosition extends Position {
  leverage: number;
  marginMode: 'cross' | 'isolated';
  /** 0 when the venue reports none. */
  liquidationPrice: number;
  markPrice: number;
  unrealizedPnl: number;
}

/** The coming funding of a perpetual. */
export interface FundingRate {
  symbol: string;
  markPrice: number;
  /** Rate of the coming funding time (0.0001 = 0.01 %); a long pays position × mark × rate when positive. */
  rate: number;
  nextFundingTime: number;
}

/** A funding payment booked on the account: positive received, negative paid. */
export interface FundingPayment {
  id: string;
  symbol: string;
  amount: number;
  asset: string;
  time: number;
}

/** Our symbol of a ccxt contract symbol: `BTC/USDT:USDT` → `BTC/USDT`. */
export function ourSymbol(ccxtSymbol: string): string {
  const i = ccxtSymbol.indexOf(':');
  return i < 0 ? ccxtSymbol : ccxtSymbol.slice(0, i);
}

/** The futures operations of one ccxt exchange instance; `call` is the adapter's budgeted, error-mapping wrapper. */
export class CcxtFutures {
  /** Leverage per our symbol, as last set or read from the venue. */
  readonly leverages = new Map<string, number>();

  constructor(
    private readonly ex: Exchange,
    private readonly venueId: string,
    private readonly opts: CcxtFuturesOptions,
    private readonly call: <T>(fn: () => Promise<T>) => Promise<T>,
  ) {}

  /** Sets the configured margin mode and leverage on `symbols`, then reads every symbol's leverage from the venue. */
  async configure(symbols: readonly string[]): Promise<void> {
    for (const s of symbols) {
      if (this.opts.marginMode) {
        const mode = this.opts.marginMode;
        try {
          await this.call(() => this.ex.setMarginMode(mode, s));
        } catch (err) {
          // Already in that mode (Binance -4046 "No need to change margin type."): nothing to change.
          if (!(err instanceof VenueError && err.cause instanceof ccxt.MarginModeAlreadySet)) throw err;
        }
      }
      if (this.opts.leverage !== undefined) {
        const lev = this.opts.leverage;
        await this.call(() => this.ex.setLeverage(lev, s));
        this.leverages.set(s, lev);
      }
    }
    await this.readLeverages();
  }

  /** Reads every symbol's leverage from the venue (Binance: `/fapi/v1/symbolConfig`), flat symbols included. */
  async readLeverages(): Promise<void> {
    const all = await this.call(() => this.ex.fetchLeverages());
    for (const l of Object.values(all)) {
      const lev = l.longLeverage ?? l.shortLeverage;
      if (l.symbol && lev !== undefined && lev > 0) this.leverages.set(ourSymbol(l.symbol), lev);
    }
  }

  /** Open positions (Binance: v2 position risk, which carries leverage and margin mode); notes each one's leverage. */
  async positions(): Promise<FuturesPosition[]> {
    const list = await this.call(() => this.ex.fetchPositions(undefined, { useV2: true }));
    const out: FuturesPosition[] = [];
    for (const p of list) {
      const pos = fromCcxtPosition(p);
      if (pos.leverage > 0) this.leverages.set(pos.symbol, pos.leverage);
      if (Math.abs(pos.quantity) > 0) out.push(pos);
    }
    return out;
  }

  /** Initial margin per unit of notional of `symbol` (1 / leverage), when known. */
  marginRate(symbol: string): number | undefined {
    const lev = this.leverages.get(symbol);
    return lev && lev > 0 ? 1 / lev : undefined;
  }

  /** The coming funding rate and time, and the mark price. */
  async fundingRate(symbol: string): Promise<FundingRate> {
    const f = await this.call(() => this.ex.fetchFundingRate(symbol));
    return {
      symbol: ourSymbol(f.symbol ?? symbol),
      markPrice: f.markPrice ?? 0,
      rate: f.fundingRate ?? 0,
      nextFundingTime: f.fundingTimestamp ?? 0,
    };
  }

  /** Funding payments booked on the account since `since`, per symbol, oldest first. */
  async fundingPayments(symbols: readonly string[], since?: number): Promise<FundingPayment[]> {
    const out: FundingPayment[] = [];
    for (const s of symbols) {
      const list = await this.call(() => this.ex.fetchFundingHistory(s, since, 1_000));
      for (const f of list) {
        out.push({
          id: String(f.id),
          symbol: ourSymbol(f.symbol ?? s),
          amount: f.amount ?? 0,
          asset: f.code ?? '',
          time: f.timestamp ?? 0,
        });
      }
    }
    return out.sort((a, b) => a.time - b.time);
  }

  /**
   * The free-margin floor on the venue's figures: refuses an order needing `margin` when the margin asset's free
   * balance (Binance's available balance) less it would be below `marginFloor` of the equity (margin balance).
   */
  checkMarginFloor(balances: Balance[], asset: string, margin: number, what: string): void {
    const floor = this.opts.marginFloor ?? 0;
    if (!(floor > 0)) return;
    const b = balances.find((x) => x.asset === asset);
    const ratio = b && b.total > 0 ? (b.free - margin) / b.total : Number.NEGATIVE_INFINITY;
    if (ratio < floor) {
      throw new VenueError(
        `${this.venueId}: ${what} needs margin ${margin.toFixed(2)} ${asset}; free margin would be ${(ratio * 100).toFixed(1)}% of equity, below the floor of ${(floor * 100).toFixed(1)}%`,
        { retryable: false, venue: this.venueId, code: VENUE_CODES.insufficientFunds },
      );
    }
  }
}

/** A ccxt position as a FuturesPosition (for callers holding ccxt's unified structure). */
export function fromCcxtPosition(p: CcxtPosition): FuturesPosition {
  const sign = p.side === 'short' ? -1 : 1;
  return {
    symbol: ourSymbol(p.symbol ?? ''),
    quantity: sign * (p.contracts ?? 0) * (p.contractSize ?? 1),
    averagePrice: p.entryPrice ?? 0,
    realizedPnl: 0,
    openedAt: p.timestamp ?? 0,
    fees: 0,
    leverage: p.leverage ?? 1,
    marginMode: p.marginMode === 'isolated' ? 'isolated' : 'cross',
    liquidationPrice: p.liquidationPrice ?? 0,
    markPrice: p.markPrice ?? 0,
    unrealizedPnl: p.unrealizedPnl ?? 0,
  };
}
