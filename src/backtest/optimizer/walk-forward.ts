import { ValidationError } from '../../core/errors.js';
import type { Metrics } from '../metrics.js';
import { scoreOf } from './objective.js';
import { type OptimizeOptions, type OptimizeResult, optimize, type TrialResult } from './search.js';
import type { ParamSet } from './space.js';
import type { BarWindow } from './types.js';

/** One walk-forward fold: optimise on `inSample`, then test the winner on the following `outOfSample`. */
export interface Fold {
  readonly index: number;
  readonly inSample: BarWindow;
  readonly outOfSample: BarWindow;
}

/**
 * Rolling walk-forward split of `bars` bars into `k` folds. Out-of-sample windows of length O tile the end of the
 * data back to back; each in-sample window of length I immediately precedes its out-of-sample window, with
 * I / (I + O) ≈ `inSampleRatio`. Fold i: IS = [i·O, i·O + I), OOS = [i·O + I, (i+1)·O + I); the last OOS ends
 * at the last bar. No out-of-sample bar is ever seen by its own fold's optimisation.
 */
export function walkForwardFolds(bars: number, k: number, inSampleRatio = 0.75): Fold[] {
  if (!Number.isInteger(k) || k < 1)
    throw new ValidationError(`--walk-forward must be a positive integer, got ${k}`, 'walk-forward');
  if (!(inSampleRatio > 0 && inSampleRatio < 1)) {
    throw new ValidationError(`in-sample ratio must be between 0 and 1, got ${inSampleRatio}`, 'walk-forward');
  }
  const rel = inSampleRatio / (1 - inSampleRatio);
  const oos = Math.floor(bars / (k + rel));
  const is = bars - k * oos;
  if (oos < 2 || is < 2) {
    throw new ValidationError(`${bars} bars are too few for ${k} walk-forward folds`, 'walk-forward');
  }
  return Array.from({ length: k }, (_, i) => ({
    index: i,
    inSample: { from: i * oos, to: i * oos + is },
    outOfSample: { from: i * oos + is, to: (i + 1) * oos + is },
  }));
}

/** In-sample winner and its out-of-sample result for one fold. */
export interface FoldResult {
  readonly fold: Fold;
  /** Null when no in-sample trial produced a score. */
  readonly best: TrialResult | null;
  readonly inSampleScore: number | null;
  readonly outOfSampleScore: number | null;
  readonly inSampleMetrics?: Metrics;
  readonly outOfSampleMetrics?: Metrics;
  readonly inSample: Pick<OptimizeResult, 'total' | 'evaluated' | 'skipped' | 'failed'>;
  readonly outOfSampleError?: string;
}

/** Walk-forward report: per-fold IS vs OOS and their means. */
export interface WalkForwardResult {
  readonly folds: readonly FoldResult[];
  readonly meanInSampleScore: number | null;
  readonly meanOutOfSampleScore: number | null;
  /** Mean OOS score / mean IS score: near 1 means the in-sample edge held up; near 0 or negative means it did not. */
  readonly efficiency: number | null;
  /** Out-of-sample returns compounded across folds, in percent. */
  readonly compoundedOutOfSampleReturnPct: number | null;
  readonly elapsedMs: number;
}

function mean(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
}

/** Optimises each fold's in-sample window, then evaluates that fold's winner on its out-of-sample window. */
export async function walkForward(
  opts: Omit<OptimizeOptions, 'window' | 'onProgress'> & {
    readonly bars: number;
    readonly folds: number;
    readonly inSampleRatio?: number;
    readonly onProgress?: (done: number, total: number) => void;
  },
): Promise<WalkForwardResult> {
  const started = performance.now();
  const folds = walkForwardFolds(opts.bars, opts.folds, opts.inSampleRatio);
  const out: FoldResult[] = [];
  for (const fold of folds) {
    const res = await optimize({
      ...opts,
      window: fold.inSample,
      onProgress: (d, t) => opts.onProgress?.(fold.index * t + d, folds.length * t),
    });
    const counts = { total: res.total, evaluated: res.evaluated, skipped: res.skipped, failed: res.failed };
    if (!res.best) {
      out.push({ fold, best: null, inSampleScore: null, outOfSampleScore: null, inSample: counts });
      continue;
    }
    const params: ParamSet = res.best.params;
    let oosMetrics: Metrics | undefined;
    let oosError: string | undefined;
    try {
      const r = await opts.evaluator.evaluate({ params, window: fold.outOfSample });
      if (r.status === 'ok') oosMetrics = r.metrics;
      else oosError = r.status === 'skipped' ? r.reason : r.error;
    } catch (err) {
      oosError = err instanceof Error ? err.message : String(err);
    }
    out.push({
      fold,
      best: res.best,
      inSampleScore: res.best.score,
      outOfSampleScore: oosMetrics ? scoreOf(opts.objective, oosMetrics) : null,
      ...(res.best.metrics ? { inSampleMetrics: res.best.metrics } : {}),
      ...(oosMetrics ? { outOfSampleMetrics: oosMetrics } : {}),
      inSample: counts,
      ...(oosError ? { outOfSampleError: oosError } : {}),
    });
  }
  const meanIs = mean(out.map((f) => f.inSampleScore));
  const meanOos = mean(out.map((f) => f.outOfSampleScore));
  let growth = 1;
  let any = false;
  for (const f of out) {
    const r = f.outOfSampleMetrics?.totalReturnPct;
    if (r === null || r === undefined) continue;
    growth *= 1 + r / 100;
    any = true;
  }
  return {
    folds: out,
    meanInSampleScore: meanIs,
    meanOutOfSampleScore: meanOos,
    efficiency: meanIs !== null && meanOos !== null && meanIs !== 0 ? meanOos / meanIs : null,
    compoundedOutOfSampleReturnPct: any ? (growth - 1) * 100 : null,
    elapsedMs: performance.now() - started,
  };
}
