import { ValidationError } from '../../core/errors.js';
import type { Metrics } from '../metrics.js';
import { compileMetricExpression, type MetricExpression } from './objective-expr.js';

/** How an objective reads the metrics and which way is better. */
export interface Objective {
  /** An objective name, or the expression's text for a custom objective. */
  readonly name: string;
  /** The metric a named objective reads (absent for an expression). */
  readonly metric?: keyof Metrics;
  /** A custom objective's compiled expression (absent for a named objective). */
  readonly expression?: MetricExpression;
  readonly direction: 'max' | 'min';
  readonly description: string;
}

/** Objective names accepted by `--objective`. */
export const OBJECTIVE_NAMES = [
  'sharpe',
  'sortino',
  'calmar',
  'profit',
  'return',
  'cagr',
  'win_rate',
  'profit_factor',
  'max_drawdown',
  'expectancy',
] as const;

/** One of OBJECTIVE_NAMES. */
export type ObjectiveName = (typeof OBJECTIVE_NAMES)[number];

/** Each objective's metric and direction (max_drawdown is minimised, all others maximised). */
export const OBJECTIVES: Readonly<Record<ObjectiveName, Objective>> = {
  sharpe: { name: 'sharpe', metric: 'sharpe', direction: 'max', description: 'annualised Sharpe ratio' },
  sortino: { name: 'sortino', metric: 'sortino', direction: 'max', description: 'annualised Sortino ratio' },
  calmar: { name: 'calmar', metric: 'calmar', direction: 'max', description: 'CAGR / max drawdown' },
  profit: { name: 'profit', metric: 'totalReturn', direction: 'max', description: 'total profit in money' },
  return: { name: 'return', metric: 'totalReturnPct', direction: 'max', description: 'total return in %' },
  cagr: { name: 'cagr', metric: 'cagrPct', direction: 'max', description: 'compound annual growth in %' },
  win_rate: { name: 'win_rate', metric: 'winRatePct', direction: 'max', description: 'winning trades in %' },
  profit_factor: {
    name: 'profit_factor',
    metric: 'profitFactor',
    direction: 'max',
    description: 'gross profit / gross loss',
  },
  max_drawdown: {
    name: 'max_drawdown',
    metric: 'maxDrawdownPct',
    direction: 'min',
    description: 'max drawdown in % (minimised)',
  },
  expectancy: { name: 'expectancy', metric: 'expectancy', direction: 'max', description: 'mean pnl per trade' },
};

/** The metrics field a name in an objective expression stands for: an objective name or a metrics field. */
function metricOf(name: string): keyof Metrics | undefined {
  const o = OBJECTIVES[name.toLowerCase() as ObjectiveName];
  if (o) return o.metric;
  return METRIC_FIELDS.has(name) ? (name as keyof Metrics) : undefined;
}

// The numeric metrics fields an expression may name (docs/metrics.md).
const METRIC_FIELDS = new Set<string>([
  'totalReturn',
  'totalReturnPct',
  'cagrPct',
  'sharpe',
  'sortino',
  'calmar',
  'maxDrawdownPct',
  'winRatePct',
  'profitFactor',
  'expectancy',
  'trades',
  'exposurePct',
  'bars',
  'finalEquity',
  'annualVolatilityPct',
  'maxDrawdownAbs',
  'longTrades',
  'shortTrades',
  'wins',
  'losses',
  'grossProfit',
  'grossLoss',
  'expectancyPct',
  'avgWin',
  'avgLoss',
  'totalFees',
  'maxConsecutiveLosses',
]);

/**
 * Resolves `--objective`: a name (an unknown one lists the valid ones), or an expression over metrics such as
 * `sharpe - 0.05 * max_drawdown`, maximised unless written `min: EXPR` (`max: EXPR` is also accepted).
 */
export function parseObjective(name: string): Objective {
  const text = name.trim();
  const dir = /^(max|min)\s*:\s*(.*)$/s.exec(text);
  if (dir || /[^A-Za-z_-]/.test(text)) {
    const body = dir ? dir[2] : text;
    return {
      name: text,
      expression: compileMetricExpression(body, metricOf),
      direction: dir?.[1] === 'min' ? 'min' : 'max',
      description: `custom expression ${body}`,
    };
  }
  const key = text.toLowerCase().replace(/-/g, '_') as ObjectiveName;
  const o = OBJECTIVES[key];
  if (!o)
    throw new ValidationError(
      `unknown objective "${name}" (expected one of ${OBJECTIVE_NAMES.join(', ')}, or an expression)`,
      'objective',
    );
  return o;
}

/** The objective's value for a run, or null when the metric is undefined (e.g. Sharpe of a run with no trades). */
export function scoreOf(objective: Objective, metrics: Metrics): number | null {
  if (objective.expression) return objective.expression(metrics);
  if (!objective.metric) return null;
  const v = metrics[objective.metric];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** Sort comparator, best first: better score first, null scores last, ties by the earlier trial. */
export function compareScores(
  objective: Objective,
  a: { score: number | null; index: number },
  b: { score: number | null; index: number },
): number {
  if (a.score === null || b.score === null) {
    if (a.score === b.score) return a.index - b.index;
    return a.score === null ? 1 : -1;
  }
  const d = objective.direction === 'max' ? b.score - a.score : a.score - b.score;
  return d !== 0 ? d : a.index - b.index;
}
