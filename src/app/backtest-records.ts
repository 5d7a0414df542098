import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ComparableRun, downsampleEquity, type EquitySeries } from '../backtest/comparison.js';
import { renderJson } from '../backtest/report/json.js';
import { writeTextAtomic } from '../backtest/report/write.js';
import type { BacktestResult } from '../backtest/runner.js';
import { ValidationError } from '../core/errors.js';
import type { BacktestInput, Repositories } from '../store/index.js';
import type { HomePaths } from './home.js';

/** Points of the equity curve kept with a stored run (enough for a chart and a comparison). */
export const STORED_EQUITY_POINTS = 2000;

/** Where a run came from and which files the command wrote for it. */
export interface BacktestRecordInfo {
  /** The `--data` argument (file or stored symbol). */
  source: string;
  /** sha256 of the bars the run used (src/backtest/data-hash.ts). */
  dataHash: string;
  /** Files the user asked for (`json`, `csv`, `html`), by kind. */
  outputs?: Record<string, string>;
  startedAt: number;
  /** `backtest` (default) or `optimize`. */
  kind?: string;
}

/** A stored run read back: the row and its result file. */
export interface StoredBacktest {
  record: BacktestInput;
  run: ComparableRun;
}

/** A short id a person can type: `bt-` and 10 hex digits. */
export function newBacktestId(): string {
  return `bt-${randomBytes(5).toString('hex')}`;
}

/**
 * Stores a finished run: its result (trades, metrics, equity reduced to STORED_EQUITY_POINTS) as
 * `<home>/reports/backtests/<id>.json` and a `backtests` row with the run spec, data source and hash, metrics,
 * fingerprint and the paths of every file written for it. Returns the id and the result file's path.
 */
export async function saveBacktest(
  repos: Pick<Repositories, 'backtests'>,
  home: HomePaths,
  result: BacktestResult,
  info: BacktestRecordInfo,
): Promise<{ id: string; path: string }> {
  const id = newBacktestId();
  const path = join(home.reports, 'backtests', `${id}.json`);
  const compact = { ...result, equity: downsampleEquity(result.equity, STORED_EQUITY_POINTS) };
  writeTextAtomic(path, renderJson({ ...compact, equity: toCurve(compact.equity) }, 0));
  await repos.backtests.upsert({
    id,
    strategyId: result.strategy,
    status: 'done',
    config: { kind: info.kind ?? 'backtest', ...result.config, data: info.source, dataHash: info.dataHash },
    metrics: result.metrics,
    fingerprint: result.fingerprint,
    artefacts: { result: path, ...(info.outputs ?? {}) },
    startedAt: info.startedAt,
    finishedAt: Date.now(),
  });
  return { id, path };
}

/** What an optimisation run leaves in the store: its spec, the best trial's metrics and fingerprint, its files. */
export interface OptimizationRecord {
  strategy: string;
  /** Search space, objective, method, run options and the best parameters (any JSON). */
  spec: Record<string, unknown>;
  source: string;
  dataHash: string;
  best: { metrics?: unknown; fingerprint?: string } | null;
  outputs?: Record<string, string>;
  startedAt: number;
}

/** Stores an optimisation run as a `backtests` row of kind `optimize` (metrics of the best trial); returns its id. */
export async function saveOptimization(
  repos: Pick<Repositories, 'backtests'>,
  rec: OptimizationRecord,
): Promise<string> {
  const id = newBacktestId();
  await repos.backtests.upsert({
    id,
    strategyId: rec.strategy,
    status: 'done',
    config: { kind: 'optimize', strategy: rec.strategy, ...rec.spec, data: rec.source, dataHash: rec.dataHash },
    ...(rec.best?.metrics !== undefined ? { metrics: rec.best.metrics } : {}),
    ...(rec.best?.fingerprint !== undefined ? { fingerprint: rec.best.fingerprint } : {}),
    artefacts: rec.outputs ?? {},
    startedAt: rec.startedAt,
    finishedAt: Date.now(),
  });
  return id;
}

function toCurve(s: EquitySeries): { time: Float64Array; value: Float64Array } {
  return { time: Float64Array.from(s.time), value: Float64Array.from(s.value) };
}

/** Reads a stored run and its result file; a clear error for an unknown id or a missing file. */
export async function loadBacktest(repos: Pick<Repositories, 'backtests'>, id: string): Promise<StoredBacktest> {
  const record = await repos.backtests.get(id);
  if (record === undefined) {
    throw new ValidationError(`no stored backtest with id "${id}" (see \`tradeforge backtests list\`)`, 'id');
  }
  const path = record.artefacts?.result;
  let equity: EquitySeries = { time: [], value: [] };
  if (path !== undefined && existsSync(path)) {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { equity?: EquitySeries };
    if (doc.equity) equity = doc.equity;
  } else if (path !== undefined) {
    throw new ValidationError(`the result file of backtest ${id} is missing: ${path}`, 'id');
  }
  return {
    record,
    run: {
      id,
      metrics: (record.metrics ?? {}) as Record<string, unknown>,
      fingerprint: record.fingerprint ?? null,
      equity,
    },
  };
}
