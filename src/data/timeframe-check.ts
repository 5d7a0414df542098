import { ValidationError } from '../core/errors.js';
import { TIMEFRAME_MS, type Timeframe } from '../core/timeframe.js';
import { inferTimeframe } from './validate.js';

/** A span in words: `1d`, `4h`, `15m`, or ms. */
function spanText(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${ms} ms`;
}

/** Median of the positive steps between the first 10,001 times; NaN without one. */
function medianStep(time: ArrayLike<number>): number {
  const steps: number[] = [];
  for (let i = 1; i < Math.min(time.length, 10_001); i++) {
    const d = time[i] - time[i - 1];
    if (d > 0) steps.push(d);
  }
  if (steps.length === 0) return Number.NaN;
  steps.sort((a, b) => a - b);
  return steps[steps.length >> 1];
}

/**
 * Refuses a declared timeframe the timestamps contradict (ValidationError naming the source): bars closer together
 * than the timeframe (1h bars declared 1d), or bars whose spacing is exactly another timeframe (daily bars declared
 * 1h). Sparse bars whose spacing matches no timeframe pass; their gaps are the validator's business.
 */
export function checkTimeframeMatches(time: ArrayLike<number>, timeframe: Timeframe, source: string): void {
  const step = medianStep(time);
  if (!Number.isFinite(step)) return;
  const inferred = inferTimeframe(Float64Array.from({ length: Math.min(time.length, 10_001) }, (_, i) => time[i]));
  if (step < TIMEFRAME_MS[timeframe] || (inferred !== undefined && inferred !== timeframe)) {
    const hint = inferred ? `pass --timeframe ${inferred} or leave it out` : 'check the file or the --timeframe';
    throw new ValidationError(
      `--timeframe ${timeframe} contradicts the timestamps of ${source}: its bars are ${spanText(step)} apart (median); ${hint}`,
      'timeframe',
    );
  }
}
