import type { Instrument } from '../core/instrument.js';
import type { EventBus } from '../core/events.js';
import type { EngineMode, RiskHook } from '../core/risk-port.js';
import { type ExitConfig, type StakeSpec, specFees, specStake } from '../core/run-spec.js';
import { TIMEFRAME_MS, type Timeframe } from '../core/timeframe.js';
import { compileExits } from '../risk/exits.js';
import type { ParamValues, Strategy } from '../strategy/types.js';
import type { Clock } from './clock.js';
import { Engine, type EngineLog, type ExitTiming } from './engine.js';
import type { ExecutionVenue } from './execution-venue.js';
import type { SymbolFeed } from './market-data.js';
import type { AtrLike } from './risk-view.js';

/** The trading part of a run spec the kernel applies: sizing, fees, exits, shorting. */
export interface KernelSpec {
  stake?: string | number | StakeSpec;
  fee?: number;
  fees?: { maker: number; taker: number };
  exits?: ExitConfig;
  allowShort?: boolean;
  /** Most trades open at once across the symbols (Freqtrade's `max_open_trades`). */
  maxOpenTrades?: number;
}

/** What differs between a backtest, paper and live: clock, feeds, venue, risk hook, capital. */
export interface KernelEnvironment {
  mode: EngineMode;
  strategy: Strategy;
  strategyId: string;
  params: ParamValues;
  feeds: readonly SymbolFeed[];
  timeframe: Timeframe;
  instruments: readonly Instrument[];
  venue: ExecutionVenue;
  clock: Clock;
  cash: number;
  bus?: EventBus;
  risk?: RiskHook;
  margin?: boolean;
  leverage?: number;
  equityCapacity?: number;
  equityTimes?: Float64Array;
  atrFactory?: () => AtrLike;
  log?: EngineLog;
  /** Correlation id prefix of the signals (the live runtime: unique per deployment and run). */
  correlationPrefix?: string;
  /** Keep every fill on `engine.fillLog` (the backtest result lists them). */
  recordFills?: boolean;
  /** When exit rules execute in a simulation (`intrabar` by default; `live` reproduces the runtime's timing). */
  exitTiming?: ExitTiming;
}

/**
 * The one kernel builder (ARCHITECTURE "One run spec, one kernel builder"): the backtest runner and the live
 * runtime both build their Engine here, so stake, fee rate, exits and shorting mean the same in every mode.
 */
export function buildKernel(spec: KernelSpec, env: KernelEnvironment): Engine {
  const fees = specFees(spec);
  return new Engine({
    mode: env.mode,
    strategy: env.strategy,
    strategyId: env.strategyId,
    params: env.params,
    feeds: env.feeds,
    timeframe: env.timeframe,
    instruments: env.instruments,
    venue: env.venue,
    clock: env.clock,
    cash: env.cash,
    ...(env.bus ? { bus: env.bus } : {}),
    ...(env.risk ? { risk: env.risk } : {}),
    ...(env.margin !== undefined ? { margin: env.margin } : {}),
    ...(env.leverage !== undefined ? { leverage: env.leverage } : {}),
    stake: specStake(spec),
    feeRate: fees.taker,
    allowShort: spec.allowShort ?? false,
    ...(spec.maxOpenTrades !== undefined ? { maxOpenTrades: spec.maxOpenTrades } : {}),
    // Freqtrade's exit rules divide distances by leverage and count ROI minutes by candle (docs/backtesting.md).
    exits: compileExits(spec.exits, fees.taker, {
      leverage: env.leverage ?? 1,
      timeframeMs: TIMEFRAME_MS[env.timeframe],
    }),
    ...(env.equityCapacity !== undefined ? { equityCapacity: env.equityCapacity } : {}),
    ...(env.equityTimes ? { equityTimes: env.equityTimes } : {}),
    ...(env.atrFactory ? { atrFactory: env.atrFactory } : {}),
    ...(env.log ? { log: env.log } : {}),
    ...(env.correlationPrefix !== undefined ? { correlationPrefix: env.correlationPrefix } : {}),
    ...(env.recordFills ? { recordFills: true } : {}),
    ...(env.exitTiming !== undefined ? { exitTiming: env.exitTiming } : {}),
  });
}
