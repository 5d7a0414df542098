/** What the API needs to run backtests and read them back; the app implements it (`app/backtest-jobs.ts`). */

/** A backtest to run from the API. */
export interface ApiBacktestRequest {
  /** A built-in strategy name or a stored version `ID@vN` (files are not read through the API). */
  strategy: string;
  /** A stored symbol (`SYMBOL`, `SYMBOL@1d`) or `sample` (the bundled file); default `sample`. */
  data?: string;
  timeframe?: string;
  params?: Record<string, number | string | boolean>;
  cash?: number;
  /** Epoch ms, inclusive. */
  from?: number;
  to?: number;
}

/** A running or finished job. */
export interface ApiBacktestJob {
  job: string;
  status: 'queued' | 'running' | 'done' | 'failed';
  /** `queued`, `loading`, `running`, `storing`, `done`, `failed`. */
  phase: string;
  /** 0..1: bars run over bars to run (loading and storing are 0 and 0.99). */
  progress: number;
  strategy: string;
  startedAt: number;
  /** The stored run's id, once done. */
  backtestId?: string;
  /** Why it failed (a user mistake is one line naming the field). */
  error?: string;
  field?: string;
}

/** A stored run read back for the dashboard. */
export interface ApiBacktestRun {
  id: string;
  strategy: string | null;
  status: string;
  config: Record<string, unknown>;
  metrics: Record<string, unknown>;
  fingerprint: string | null;
  startedAt: number;
  finishedAt: number | null;
  equity: { time: number[]; value: number[] };
  trades: Record<string, unknown>[];
  /** Trades held in the run (the list may be cut). */
  tradeCount: number;
}

/** A stored run in a list. */
export interface ApiBacktestSummary {
  id: string;
  strategy: string | null;
  status: string;
  kind: string;
  data: string | null;
  metrics: Record<string, unknown>;
  startedAt: number;
  finishedAt: number | null;
}

/** Backtests over the API. */
export interface ApiBacktests {
  /** Checks the request (ValidationError naming the field) and queues the run; resolves once it is queued. */
  start(req: ApiBacktestRequest, actor: string): Promise<ApiBacktestJob>;
  /** A job of this process, or undefined. */
  job(id: string): ApiBacktestJob | undefined;
  /** Jobs of this process, newest first. */
  jobs(): ApiBacktestJob[];
  /** Stored runs, newest first. */
  list(limit: number, strategy?: string): Promise<ApiBacktestSummary[]>;
  /** One stored run with its equity curve and trades (ValidationError `id` when unknown). */
  get(id: string, maxTrades: number): Promise<ApiBacktestRun>;
  /** The stored run's result file (JSON text), or undefined when it has none. */
  report(id: string): Promise<string | undefined>;
  /** Calls the listener on every job change (the `backtest` WebSocket topic); returns the unsubscribe. */
  onChange(listener: (job: ApiBacktestJob) => void): () => void;
}
