/**
 * The strategy SDK (`tradeforge/sdk`): the one module a user strategy file may import. It carries the Strategy
 * API types, the streaming indicators and a few helpers; at run time the sandbox hands user code a frozen copy
 * of exactly these values (see `sdkValues`), nothing else of the host.
 */
import { ValidationError } from '../core/errors.js';
import type { StrategyDefinition } from '../strategy/types.js';
import * as SDK_INDICATORS from './sdk-indicators.js';

export type {
  BarView,
  HistoryView,
  LogLevel,
  OrderOptions,
  ParamSpec,
  ParamType,
  ParamValue,
  ParamValues,
  PortfolioView,
  SeriesField,
  Strategy,
  StrategyContext,
  StrategyDefinition,
  StrategyRequirements,
} from '../strategy/types.js';
/** Thrown by a definition's `validate` for a bad parameter combination (the optimiser skips such points). */
export { ValidationError };
export * from './sdk-indicators.js';

/** Declares a strategy file's strategy: returns its argument, typed (a file's default export). */
export function defineStrategy(def: StrategyDefinition): StrategyDefinition {
  return def;
}

/** True when `a` crossed above `b` between the previous values and these (NaN anywhere gives false). */
export function crossesAbove(prevA: number, prevB: number, a: number, b: number): boolean {
  return a > b && prevA <= prevB;
}

/** True when `a` crossed below `b` between the previous values and these (NaN anywhere gives false). */
export function crossesBelow(prevA: number, prevB: number, a: number, b: number): boolean {
  return a < b && prevA >= prevB;
}

/** The SDK's run-time values by name, frozen: what `require('tradeforge/sdk')` returns inside the sandbox. */
export function sdkValues(): Readonly<Record<string, unknown>> {
  // Classes and their prototypes are frozen too: a strategy must not patch what other strategies share.
  for (const cls of Object.values(SDK_INDICATORS)) {
    Object.freeze(cls.prototype);
    Object.freeze(cls);
  }
  return Object.freeze({
    ...SDK_INDICATORS,
    ValidationError,
    defineStrategy,
    crossesAbove,
    crossesBelow,
  });
}

/** The module specifier a strategy file imports the SDK by. */
export const SDK_MODULE = 'tradeforge/sdk';
