import { defineInstrument, type Instrument } from '../core/instrument.js';
import type { EngineMode, RiskView } from '../core/risk-port.js';

/**
 * A plain in-memory RiskView whose numbers are set directly: for tests, benchmarks and tools that drive the risk
 * engine without a kernel. Gross exposure is computed from the positions and last prices unless set.
 */
export class SimpleRiskView implements RiskView {
  mode: EngineMode;
  time = 0;
  equityValue = 100_000;
  cashValue = 100_000;
  /** Free margin; the cash when unset. */
  freeMarginValue: number | undefined;
  /** Gross exposure; computed from positions when unset. */
  grossExposureValue: number | undefined;
  readonly positions = new Map<string, { quantity: number; averagePrice: number }>();
  readonly prices = new Map<string, number>();
  readonly atrs = new Map<string, number>();
  readonly instruments = new Map<string, Instrument>();
  readonly strategyExposures = new Map<string, number>();
  readonly openOrders = new Map<string, number>();
  readonly stale = new Set<string>();

  constructor(mode: EngineMode = 'backtest') {
    this.mode = mode;
  }

  now(): number {
    return this.time;
  }
  equity(): number {
    return this.equityValue;
  }
  cash(): number {
    return this.cashValue;
  }
  freeMargin(): number {
    return this.freeMarginValue ?? this.cashValue;
  }
  grossExposure(): number {
    if (this.grossExposureValue !== undefined) return this.grossExposureValue;
    let g = 0;
    for (const [symbol, p] of this.positions) {
      g += Math.abs(p.quantity * this.lastPrice(symbol) * this.instrument(symbol).multiplier);
    }
    return g;
  }
  positionQuantity(symbol: string): number {
    return this.positions.get(symbol)?.quantity ?? 0;
  }
  positionAveragePrice(symbol: string): number {
    return this.positions.get(symbol)?.averagePrice ?? 0;
  }
  strategyExposure(strategyId: string): number {
    return this.strategyExposures.get(strategyId) ?? 0;
  }
  lastPrice(symbol: string): number {
    return this.prices.get(symbol) ?? Number.NaN;
  }
  atr(symbol: string): number {
    return this.atrs.get(symbol) ?? Number.NaN;
  }
  instrument(symbol: string): Instrument {
    let inst = this.instruments.get(symbol);
    if (inst === undefined) this.instruments.set(symbol, (inst = defineInstrument({ symbol })));
    return inst;
  }
  openOrderCount(strategyId?: string, symbol?: string): number {
    return this.openOrders.get(`${strategyId ?? '*'}|${symbol ?? '*'}`) ?? 0;
  }
  isStale(symbol: string): boolean {
    return this.stale.has(symbol);
  }

  /** Sets a position (0 removes it). */
  setPosition(symbol: string, quantity: number, averagePrice = this.lastPrice(symbol)): this {
    if (quantity === 0) this.positions.delete(symbol);
    else this.positions.set(symbol, { quantity, averagePrice });
    return this;
  }
}
