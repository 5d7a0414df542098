/**
 * The thread an API backtest runs in, so a long run never stalls the runtime's event loop (live orders, the risk
 * engine, the API). It resolves the strategy, loads the bars, runs the backtest and posts progress: bars run over
 * bars to run, counted on the engine's per-bar equity event, at most once per percent.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { compileStoredVersion, type StoredVersion } from '../authoring/versions.js';
import { resolveStrategy, strategyExits } from '../authoring/resolve.js';
import { guardedStrategy } from '../authoring/sandbox/trial-guard.js';
import { dataHash } from '../backtest/data-hash.js';
import { runBacktest } from '../backtest/runner.js';
import { ValidationError } from '../core/errors.js';
import { parseTimeframe } from '../core/timeframe.js';
import { loadBars } from '../data/load.js';
import { MarketDataStore } from '../data/store.js';
import { InProcessEventBus } from '../engine/event-bus.js';

/** What the host sends the worker. */
export interface BacktestJobWorkerData {
  /** A built-in name, or the stored version's row (resolved by the host, which holds the store). */
  strategy: string;
  version?: StoredVersion;
  /** A data file (the bundled sample) or a stored symbol. */
  data: string;
  dataDir: string;
  timeframe?: string;
  params?: Record<string, number | string | boolean>;
  cash?: number;
  from?: number;
  to?: number;
  /** The callback marks the host's CPU watchdog reads (a stored version: code we did not write). */
  marks?: SharedArrayBuffer;
}

/** What the worker posts back. */
export type BacktestJobWorkerPost =
  | { kind: 'phase'; phase: 'loading' | 'running' }
  | { kind: 'progress'; progress: number }
  | { kind: 'result'; result: ReturnType<typeof runBacktest>; dataHash: string }
  | { kind: 'error'; message: string; field?: string };

const port = parentPort;
if (port === null) throw new Error('backtest-job-worker.ts runs only as a worker thread');
const post = (m: BacktestJobWorkerPost) => port.postMessage(m);
const w = workerData as BacktestJobWorkerData;

try {
  post({ kind: 'phase', phase: 'loading' });
  // A stored version is marked around its load and every callback, so the host's watchdog can stop it on its budget.
  const version = w.version;
  const def = version
    ? guardedStrategy(w.marks ? { marks: w.marks } : undefined, () => compileStoredVersion(version))
    : resolveStrategy(w.strategy);
  const tf = w.timeframe ? parseTimeframe(w.timeframe) : undefined;
  const loaded = loadBars(w.data, { store: new MarketDataStore(w.dataDir), ...(tf ? { timeframe: tf } : {}) });
  const timeframe = loaded.timeframe ?? tf;
  if (!timeframe) throw new ValidationError(`cannot infer the timeframe of ${w.data}; give one (e.g. 1d)`, 'timeframe');
  let bars = 0;
  for (let i = 0; i < loaded.columns.length; i++) {
    const t = loaded.columns.time[i];
    if ((w.from === undefined || t >= w.from) && (w.to === undefined || t <= w.to)) bars++;
  }
  const bus = new InProcessEventBus();
  let seen = 0;
  let posted = 0;
  const step = Math.max(1, Math.floor(bars / 100));
  bus.subscribe('equity.updated.v1', () => {
    seen++;
    if (seen - posted >= step) {
      posted = seen;
      post({ kind: 'progress', progress: Math.min(0.99, seen / Math.max(1, bars)) });
    }
  });
  post({ kind: 'phase', phase: 'running' });
  const exits = strategyExits(def);
  const result = runBacktest({
    data: { symbol: loaded.symbol, columns: loaded.columns, timeframe },
    strategy: def,
    bus,
    ...(w.params ? { params: w.params } : {}),
    ...(exits ? { exits } : {}),
    ...(w.cash !== undefined ? { cash: w.cash } : {}),
    ...(w.from !== undefined ? { from: w.from } : {}),
    ...(w.to !== undefined ? { to: w.to } : {}),
    ...(w.version ? { strategyId: `${w.version.strategy_id}@v${w.version.version}` } : {}),
  });
  post({ kind: 'result', result, dataHash: dataHash([{ symbol: loaded.symbol, columns: loaded.columns }]) });
} catch (err) {
  const field = err instanceof ValidationError ? err.field : undefined;
  post({ kind: 'error', message: err instanceof Error ? err.message : String(err), ...(field ? { field } : {}) });
}
