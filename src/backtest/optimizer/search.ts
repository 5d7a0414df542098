import { ValidationError } from '../../core/errors.js';
import { SeededRandom } from '../../data/random.js';
import type { Metrics } from '../metrics.js';
import { compareScores, type Objective, scoreOf } from './objective.js';
import { gridPoints, type ParamSet, type ParamSpace, randomPoints, spaceSize } from './space.js';
import { ListSampler, type Sampler, TpeSampler } from './tpe.js';
import type { BarWindow, Evaluator } from './types.js';

/** Search methods of `--method`. */
export type SearchMethod = 'grid' | 'random' | 'tpe';

/** Options of one optimisation. */
export interface OptimizeOptions {
  readonly space: ParamSpace;
  readonly objective: Objective;
  readonly evaluator: Evaluator;
  readonly method?: SearchMethod;
  /** Random and TPE search: number of distinct points. */
  readonly trials?: number;
  /** Random search seed (default 1): same seed, same points. */
  readonly seed?: number;
  /** Bars to optimise on (all when absent). */
  readonly window?: BarWindow;
  /** Parameters held constant, merged under every point. */
  readonly fixed?: ParamSet;
  /** Runs with fewer trades rank after every run that has enough (their score is kept for information). */
  readonly minTrades?: number;
  readonly onProgress?: (done: number, total: number) => void;
}

/** One evaluated point. */
export interface TrialResult {
  /** Position in the evaluation order (grid order, or draw order for random search). */
  readonly index: number;
  readonly params: ParamSet;
  readonly status: 'ok' | 'skipped' | 'failed';
  readonly score: number | null;
  readonly metrics?: Metrics;
  readonly fingerprint?: string;
  /** Why it was skipped or failed. */
  readonly reason?: string;
}

/** Outcome of one optimisation: every evaluated point ranked best first, and the ones that did not run. */
export interface OptimizeResult {
  readonly objective: Objective;
  readonly method: SearchMethod;
  readonly window?: BarWindow;
  readonly total: number;
  readonly evaluated: number;
  readonly skipped: number;
  readonly failed: number;
  readonly ranked: readonly TrialResult[];
  readonly notRun: readonly TrialResult[];
  readonly best: TrialResult | null;
  readonly elapsedMs: number;
}

/** The sampler of a search method: the fixed list of grid/random, or a TPE sampler learning from scores. */
export function createSampler(
  space: ParamSpace,
  method: SearchMethod,
  objective: Objective,
  trials?: number,
  seed = 1,
): Sampler {
  if (method !== 'tpe') return new ListSampler(searchPoints(space, method, trials, seed));
  if (trials === undefined) throw new ValidationError('--method tpe needs --trials N', 'trials');
  if (!Number.isInteger(trials) || trials < 1)
    throw new ValidationError(`--trials must be a positive integer, got ${trials}`, 'trials');
  return new TpeSampler({ space, trials, direction: objective.direction, seed });
}

/** How many points a search evaluates (without running it). */
export function searchSize(space: ParamSpace, method: SearchMethod, trials?: number, seed = 1): number {
  if (method === 'tpe') {
    if (trials === undefined) throw new ValidationError('--method tpe needs --trials N', 'trials');
    return Math.min(trials, spaceSize(space));
  }
  return searchPoints(space, method, trials, seed).length;
}

/** The points a grid or random search visits, in order. */
export function searchPoints(space: ParamSpace, method: SearchMethod, trials?: number, seed = 1): ParamSet[] {
  if (method === 'grid') return gridPoints(space);
  if (method === 'random') {
    if (trials === undefined) throw new ValidationError('--method random needs --trials N', 'trials');
    const rng = new SeededRandom(seed);
    return randomPoints(space, trials, () => rng.next());
  }
  throw new ValidationError(`unknown --method "${method}" (expected grid, random or tpe)`, 'method');
}

/** Ranks evaluated results best first (null scores and runs under `minTrades` last, ties by index). */
export function rankResults(results: readonly TrialResult[], objective: Objective, minTrades = 0): TrialResult[] {
  const enough = (r: TrialResult) => (r.metrics?.trades ?? 0) >= minTrades;
  return results
    .filter((r) => r.status === 'ok')
    .sort((a, b) => {
      const ea = enough(a);
      if (ea !== enough(b)) return ea ? -1 : 1;
      return compareScores(objective, a, b);
    });
}

/**
 * Evaluates every point of the search on the evaluator, keeping `concurrency` trials in flight, and ranks them.
 * A trial the strategy rejects is `skipped`; a trial that throws is `failed`; neither stops the search.
 */
export async function optimize(opts: OptimizeOptions): Promise<OptimizeResult> {
  const started = performance.now();
  const method = opts.method ?? 'grid';
  const sampler = createSampler(opts.space, method, opts.objective, opts.trials, opts.seed);
  const total = sampler.total;
  const results: TrialResult[] = new Array(total);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < total) {
      const point = sampler.next();
      if (point === undefined) break;
      const index = next++;
      const params = { ...opts.fixed, ...point };
      let r: TrialResult;
      try {
        const out = await opts.evaluator.evaluate({ params, ...(opts.window ? { window: opts.window } : {}) });
        if (out.status === 'ok') {
          r = {
            index,
            params,
            status: 'ok',
            score: scoreOf(opts.objective, out.metrics),
            metrics: out.metrics,
            ...(out.fingerprint ? { fingerprint: out.fingerprint } : {}),
          };
        } else if (out.status === 'skipped') r = { index, params, status: 'skipped', score: null, reason: out.reason };
        else r = { index, params, status: 'failed', score: null, reason: out.error };
      } catch (err) {
        // A broken evaluator (crashed worker pool) fails the whole search, not one trial.
        if (err instanceof Error && (err as { fatal?: boolean }).fatal) throw err;
        r = { index, params, status: 'failed', score: null, reason: err instanceof Error ? err.message : String(err) };
      }
      results[index] = r;
      sampler.tell(point, r.score);
      done++;
      opts.onProgress?.(done, total);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.evaluator.concurrency, total)) }, worker));
  const ranked = rankResults(results, opts.objective, opts.minTrades);
  const notRun = results.filter((r) => r.status !== 'ok');
  return {
    objective: opts.objective,
    method,
    ...(opts.window ? { window: opts.window } : {}),
    total,
    evaluated: ranked.length,
    skipped: notRun.filter((r) => r.status === 'skipped').length,
    failed: notRun.filter((r) => r.status === 'failed').length,
    ranked,
    notRun,
    best:
      ranked.length && ranked[0].score !== null && (ranked[0].metrics?.trades ?? 0) >= (opts.minTrades ?? 0)
        ? ranked[0]
        : null,
    elapsedMs: performance.now() - started,
  };
}
