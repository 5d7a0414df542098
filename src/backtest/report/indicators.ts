import type { BarColumns } from '../../core/bar.js';
import { computeIndicator, parseIndicatorSpec } from '../../indicators/spec.js';
import type { ParamValues, StrategyDefinition } from '../../strategy/types.js';
import type { ReportIndicator } from './chart-data.js';

/** Indicators whose values are prices (drawn over the candles); every other one gets a pane of its own. */
const ON_PRICE = new Set(['sma', 'ema', 'wma', 'bbands', 'donchian', 'vwap']);

/**
 * The indicators a strategy declares for charts (`StrategyDefinition.chartIndicators`), computed over the bars
 * the report shows. Pure: the same code the `indicators` command uses.
 */
export function chartIndicators(def: StrategyDefinition, params: ParamValues, bars: BarColumns): ReportIndicator[] {
  const specs = def.chartIndicators?.(params) ?? [];
  const out: ReportIndicator[] = [];
  for (const text of specs) {
    const spec = parseIndicatorSpec(text);
    const placement = ON_PRICE.has(spec.name) ? 'price' : 'pane';
    for (const col of computeIndicator(spec, bars)) out.push({ name: col.name, placement, values: col.values });
  }
  return out;
}
