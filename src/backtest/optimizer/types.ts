import type { Metrics } from '../metrics.js';
import type { ParamSet } from './space.js';

/** Bars [from, to) of the loaded data that one trial trades and measures (history before `from` may warm up). */
export interface BarWindow {
  readonly from: number;
  readonly to: number;
}

/** One evaluation asked of a trial runner. */
export interface TrialRequest {
  readonly params: ParamSet;
  /** The whole data set when absent. */
  readonly window?: BarWindow;
}

/**
 * What one trial produced: metrics, or `skipped` when the strategy rejects the parameter combination (e.g.
 * fast >= slow), or `failed` when the run itself broke.
 */
export type TrialOutcome =
  | { readonly status: 'ok'; readonly metrics: Metrics; readonly fingerprint?: string }
  | { readonly status: 'skipped'; readonly reason: string }
  | { readonly status: 'failed'; readonly error: string };

/** Runs one trial synchronously; built once per worker (or once in-process) around data loaded once. */
export type TrialRunner = (req: TrialRequest) => TrialOutcome;

/**
 * A module a worker loads by URL: it builds the trial runner from the setup posted once at worker start
 * (strategy, run options, shared data columns) and the pool's guard data for the worker (WorkerGuard), if any.
 * The seam between the optimiser and the backtest runner.
 */
export interface TrialModule {
  createTrialRunner(setup: unknown, guard?: unknown): TrialRunner | Promise<TrialRunner>;
}

/** Evaluates trials, possibly many at once (a worker pool) — the optimiser only sees this. */
export interface Evaluator {
  /** How many trials it runs at the same time. */
  readonly concurrency: number;
  evaluate(req: TrialRequest): Promise<TrialOutcome>;
  close(): Promise<void>;
}
