import type { Instrument } from '../core/instrument.js';
import type { EngineMode, RiskView } from '../core/risk-port.js';
import type { Clock } from './clock.js';
import type { ExecutionEngine } from './execution-engine.js';
import type { SymbolFeed } from './market-data.js';
import type { Portfolio } from './portfolio.js';

/** A streaming ATR the engine can feed (built by the caller, e.g. `new Atr(14)` from src/indicators). */
export interface AtrLike {
  update(high: number, low: number, close: number): number;
}

/**
 * The engine's RiskView: reads the live portfolio and market state in place (no copies). ATR(14) per symbol is
 * kept only for symbols the risk engine asks about: the first `atr(symbol)` call catches up from the symbol's
 * history, later calls advance it by the bars since, so a run whose rules never ask pays nothing.
 */
export class EngineRiskView implements RiskView {
  /** Set by the engine when data for a symbol goes stale (live only). */
  readonly stale = new Set<string>();
  private readonly atrs: (AtrLike | undefined)[];
  private readonly atrValue: Float64Array;
  private readonly atrRow: Int32Array;
  private readonly index = new Map<string, number>();

  constructor(
    readonly mode: EngineMode,
    private readonly clock: Clock,
    private readonly portfolio: Portfolio,
    private readonly exec: ExecutionEngine,
    private readonly feeds: readonly SymbolFeed[],
    private readonly instruments: readonly Instrument[],
    private readonly strategyId: string,
    private readonly atrFactory: (() => AtrLike) | undefined,
  ) {
    const n = feeds.length;
    this.atrs = new Array<AtrLike | undefined>(n).fill(undefined);
    this.atrValue = new Float64Array(n).fill(Number.NaN);
    this.atrRow = new Int32Array(n).fill(-1);
    for (let i = 0; i < n; i++) this.index.set(feeds[i].symbol, i);
  }

  now(): number {
    return this.clock.now();
  }

  equity(): number {
    return this.portfolio.equity();
  }

  cash(): number {
    return this.portfolio.cash;
  }

  freeMargin(): number {
    return this.portfolio.freeMargin();
  }

  grossExposure(): number {
    return this.portfolio.grossExposure();
  }

  positionQuantity(symbol: string): number {
    return this.portfolio.position(symbol);
  }

  positionAveragePrice(symbol: string): number {
    return this.portfolio.averagePrice(symbol);
  }

  strategyExposure(strategyId: string): number {
    return strategyId === this.strategyId ? this.portfolio.grossExposure() : 0;
  }

  lastPrice(symbol: string): number {
    const s = this.index.get(symbol);
    return s === undefined ? Number.NaN : this.portfolio.last[s];
  }

  atr(symbol: string): number {
    const s = this.index.get(symbol);
    if (s === undefined || this.atrFactory === undefined) return Number.NaN;
    let a = this.atrs[s];
    if (a === undefined) {
      a = this.atrFactory();
      this.atrs[s] = a;
    }
    const feed = this.feeds[s];
    const c = feed.columns;
    for (let r = this.atrRow[s] + 1; r <= feed.cursor; r++) {
      this.atrValue[s] = a.update(c.high[r], c.low[r], c.close[r]);
    }
    if (feed.cursor > this.atrRow[s]) this.atrRow[s] = feed.cursor;
    return this.atrValue[s];
  }

  instrument(symbol: string): Instrument {
    const s = this.index.get(symbol);
    if (s === undefined) throw new Error(`unknown symbol ${symbol}`);
    return this.instruments[s];
  }

  openOrderCount(strategyId?: string, symbol?: string): number {
    return this.exec.openOrderCount(strategyId, symbol);
  }

  isStale(symbol: string): boolean {
    return this.stale.size > 0 && this.stale.has(symbol);
  }
}
