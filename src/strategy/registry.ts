import { ValidationError } from '../core/errors.js';
import { bollingerBreakout } from './builtins/bollinger-breakout.js';
import { emaCross } from './builtins/ema-cross.js';
import { grid } from './builtins/grid.js';
import { macdStrategy } from './builtins/macd.js';
import { rsiReversion } from './builtins/rsi-reversion.js';
import { signals } from './builtins/signals.js';
import { smaCross } from './builtins/sma-cross.js';
import type { StrategyDefinition } from './types.js';

const registry = new Map<string, StrategyDefinition>();
for (const d of [smaCross, emaCross, rsiReversion, macdStrategy, bollingerBreakout, grid, signals]) {
  registry.set(d.name, d);
}

/** Adds (or replaces) a strategy definition, e.g. a compiled rule-language or user strategy. */
export function registerStrategy(def: StrategyDefinition): void {
  registry.set(def.name, def);
}

/** The definition of a named strategy; an unknown name throws ValidationError listing the known ones. */
export function getStrategy(name: string): StrategyDefinition {
  const def = registry.get(name);
  if (def === undefined) {
    throw new ValidationError(
      `unknown strategy "${name}" (known: ${[...registry.keys()].sort().join(', ')})`,
      'strategy',
    );
  }
  return def;
}

/** All registered strategy definitions, by name. */
export function listStrategies(): StrategyDefinition[] {
  return [...registry.values()].sort((a, b) => a.name.localeCompare(b.name));
}
