import type { ClosedTrade } from '../../core/events.js';
import type { FillRecord } from '../../core/fill.js';
import type { StrategyStatistics } from '../../strategy/types.js';
import type { EquityCurve, Metrics } from '../metrics.js';

/** A risk event worth showing in a report (a rejected order, a tripped breaker). */
export interface ReportRiskEvent {
  /** Epoch ms. */
  readonly time: number;
  /** Stable reason code, e.g. `INSUFFICIENT_FUNDS`. */
  readonly code: string;
  readonly detail: string;
}

/**
 * What the reports render: the parts of a backtest result they need. `BacktestResult` from the runner
 * satisfies it structurally, so the renderers do not depend on the runner.
 */
export interface ReportInput {
  readonly trades: readonly ClosedTrade[];
  readonly metrics: Metrics;
  readonly equity: EquityCurve;
  readonly fingerprint: string;
  /** Run timing, e.g. `{ loadMs, runMs, bars, barsPerSecond }`. */
  readonly timing?: Readonly<Record<string, number>>;
  readonly riskEvents?: readonly ReportRiskEvent[];
  /** The run's settings (strategy, params, cash, fees ...), JSON-serialisable; echoed as is. */
  readonly config?: unknown;
  /** Every fill of the run (time, side, price, quantity, fee, order type, tag). */
  readonly fillRecords?: readonly FillRecord[];
  /** What the strategy published through `statistics()`. */
  readonly strategyStats?: StrategyStatistics | null;
}
