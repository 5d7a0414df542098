/**
 * Backtests started from the API (UI backtests page): the request is checked here, the run happens in a worker
 * thread (`backtest-job-worker.ts`) one at a time, progress is reported to listeners (the `backtest` WebSocket
 * topic), and a finished run is stored like a CLI run (`backtest-records.ts`), so `tradeforge backtests` lists it.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { MARK_BYTES } from '../authoring/sandbox/backtest-worker-marks.js';
import { DEFAULT_SANDBOX_LIMITS } from '../authoring/sandbox/limits.js';
import { stoppedAt, watchCallbacks } from '../authoring/sandbox/watchdog.js';
import { parseVersionRef, versionFileName } from '../authoring/versions.js';
import { tsxWorkerSource } from '../backtest/optimizer/pool.js';
import { BACKTEST_YOUNG_GENERATION_MB } from '../backtest/young-generation.js';
import { ValidationError } from '../core/errors.js';
import { getStrategy } from '../strategy/registry.js';
import type {
  ApiBacktestJob,
  ApiBacktestRequest,
  ApiBacktestRun,
  ApiBacktests,
  ApiBacktestSummary,
} from '../server/api/backtest-port.js';
import type { Store } from '../store/store.js';
import { loadBacktest, saveBacktest } from './backtest-records.js';
import type { BacktestJobWorkerData, BacktestJobWorkerPost } from './backtest-job-worker.js';
import { type HomePaths, SAMPLE_DATA_FILE } from './home.js';

/** Jobs kept in memory for the progress view (older finished ones are forgotten; their runs stay stored). */
const KEPT_JOBS = 50;
const WORKER = new URL('./backtest-job-worker.ts', import.meta.url);

interface Pending {
  job: ApiBacktestJob;
  data: BacktestJobWorkerData;
  source: string;
}

const asRecord = (x: unknown): Record<string, unknown> =>
  x !== null && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : {};

/** Runs API backtests one at a time off the main thread and stores them. */
export class BacktestJobs implements ApiBacktests {
  private readonly all = new Map<string, ApiBacktestJob>();
  private readonly queue: Pending[] = [];
  private readonly listeners = new Set<(job: ApiBacktestJob) => void>();
  private running: Worker | undefined;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly home: HomePaths,
  ) {}

  async start(req: ApiBacktestRequest, _actor: string): Promise<ApiBacktestJob> {
    if (this.closed) throw new Error('the runtime is stopping: no new backtests');
    const data: BacktestJobWorkerData = {
      strategy: req.strategy,
      data: SAMPLE_DATA_FILE,
      dataDir: this.home.data,
      ...(req.timeframe !== undefined ? { timeframe: req.timeframe } : {}),
      ...(req.params !== undefined ? { params: req.params } : {}),
      ...(req.cash !== undefined ? { cash: req.cash } : {}),
      ...(req.from !== undefined ? { from: req.from } : {}),
      ...(req.to !== undefined ? { to: req.to } : {}),
    };
    const ref = parseVersionRef(req.strategy);
    if (ref) {
      const v = await this.store.strategies.version(ref.id, ref.version);
      if (!v) throw new ValidationError(`no stored strategy version ${req.strategy}`, 'strategy');
      data.version = v;
    } else {
      // A built-in name only: paths would let an API caller make the runtime read any file.
      getStrategy(req.strategy);
    }
    const source = req.data ?? 'sample';
    if (source !== 'sample') {
      if (existsSync(source)) {
        throw new ValidationError(
          'files are not read through the API: import the data (`tradeforge data import`) and name its symbol',
          'data',
        );
      }
      data.data = source;
    }
    if (req.from !== undefined && req.to !== undefined && req.from > req.to) {
      throw new ValidationError(`from (${req.from}) is after to (${req.to})`, 'from');
    }
    const job: ApiBacktestJob = {
      job: `job-${randomBytes(5).toString('hex')}`,
      status: 'queued',
      phase: 'queued',
      progress: 0,
      strategy: req.strategy,
      startedAt: Date.now(),
    };
    this.all.set(job.job, job);
    this.forgetOld();
    this.queue.push({ job, data, source });
    this.changed(job);
    const queued = { ...job };
    this.pump();
    return queued;
  }

  job(id: string): ApiBacktestJob | undefined {
    const j = this.all.get(id);
    return j ? { ...j } : undefined;
  }

  jobs(): ApiBacktestJob[] {
    return [...this.all.values()].reverse().map((j) => ({ ...j }));
  }

  async list(limit: number, strategy?: string): Promise<ApiBacktestSummary[]> {
    const rows = await this.store.backtests.list({ limit, ...(strategy ? { strategyId: strategy } : {}) });
    return rows.map((r) => {
      const config = asRecord(r.config);
      return {
        id: r.id,
        strategy: r.strategyId ?? null,
        status: r.status,
        kind: typeof config.kind === 'string' ? config.kind : 'backtest',
        data: typeof config.data === 'string' ? config.data : null,
        metrics: asRecord(r.metrics),
        startedAt: r.startedAt,
        finishedAt: r.finishedAt ?? null,
      };
    });
  }

  async get(id: string, maxTrades: number): Promise<ApiBacktestRun> {
    const { record, run } = await loadBacktest(this.store, id);
    const report = await this.report(id);
    const trades = report ? ((JSON.parse(report) as { trades?: Record<string, unknown>[] }).trades ?? []) : [];
    return {
      id,
      strategy: record.strategyId ?? null,
      status: record.status,
      config: asRecord(record.config),
      metrics: run.metrics,
      fingerprint: run.fingerprint,
      startedAt: record.startedAt,
      finishedAt: record.finishedAt ?? null,
      equity: { time: Array.from(run.equity.time), value: Array.from(run.equity.value) },
      trades: trades.slice(0, maxTrades),
      tradeCount: trades.length,
    };
  }

  async report(id: string): Promise<string | undefined> {
    const record = await this.store.backtests.get(id);
    if (!record) throw new ValidationError(`no stored backtest with id "${id}"`, 'id');
    const path = record.artefacts?.result;
    return path !== undefined && existsSync(path) ? readFileSync(path, 'utf8') : undefined;
  }

  onChange(listener: (job: ApiBacktestJob) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the running worker (its job fails as interrupted) and refuses new jobs. */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) this.fail(p.job, 'the runtime stopped before the run began');
    await this.running?.terminate();
  }

  private changed(job: ApiBacktestJob): void {
    const copy = { ...job };
    for (const l of this.listeners) l(copy);
  }

  private fail(job: ApiBacktestJob, message: string, field?: string): void {
    job.status = 'failed';
    job.phase = 'failed';
    job.error = message;
    if (field !== undefined) job.field = field;
    this.changed(job);
  }

  private forgetOld(): void {
    for (const [id, j] of this.all) {
      if (this.all.size <= KEPT_JOBS) break;
      if (j.status === 'done' || j.status === 'failed') this.all.delete(id);
    }
  }

  private pump(): void {
    if (this.running || this.closed) return;
    const next = this.queue.shift();
    if (!next) return;
    const { job } = next;
    job.status = 'running';
    job.phase = 'loading';
    this.changed(job);
    // A stored version is code we did not write: its callbacks are marked in the worker and watched from here, and
    // one past its CPU budget ends the worker with the sandbox's one-line stop (the queue goes on).
    const v = next.data.version;
    const marks = v ? new SharedArrayBuffer(MARK_BYTES) : undefined;
    const worker = new Worker(tsxWorkerSource(WORKER), {
      eval: true,
      workerData: { ...next.data, ...(marks ? { marks } : {}) },
      // A job is one backtest, run as the `backtest` command runs it (src/backtest/young-generation.js).
      resourceLimits: { maxYoungGenerationSizeMb: BACKTEST_YOUNG_GENERATION_MB },
    });
    this.running = worker;
    let settled = false;
    const finish = () => {
      settled = true;
      watchdog?.stop();
      if (this.running === worker) this.running = undefined;
      void worker.terminate();
      this.pump();
    };
    const watchdog =
      v && marks
        ? watchCallbacks(marks, DEFAULT_SANDBOX_LIMITS, (at) => {
            if (settled) return;
            const who = { strategy: `${v.strategy_id}@v${v.version}`, file: versionFileName(v) };
            this.fail(job, stoppedAt(who, 'cpu-budget', at, DEFAULT_SANDBOX_LIMITS).message);
            finish();
          })
        : undefined;
    worker.on('message', (m: BacktestJobWorkerPost) => {
      if (settled) return;
      if (m.kind === 'phase') {
        job.phase = m.phase;
        this.changed(job);
      } else if (m.kind === 'progress') {
        job.progress = m.progress;
        this.changed(job);
      } else if (m.kind === 'error') {
        this.fail(job, m.message, m.field);
        finish();
      } else {
        settled = true;
        job.phase = 'storing';
        job.progress = 0.99;
        this.changed(job);
        saveBacktest(this.store, this.home, m.result, {
          source: next.source,
          dataHash: m.dataHash,
          outputs: {},
          startedAt: job.startedAt,
          kind: 'backtest',
        })
          .then((saved) => {
            job.status = 'done';
            job.phase = 'done';
            job.progress = 1;
            job.backtestId = saved.id;
            this.changed(job);
          })
          .catch((err: unknown) => this.fail(job, `storing the run failed: ${(err as Error).message}`))
          .finally(finish);
      }
    });
    worker.on('error', (err) => {
      if (settled) return;
      this.fail(job, `the backtest worker crashed: ${err.message}`);
      finish();
    });
    worker.on('exit', (code) => {
      if (settled) return;
      this.fail(job, `the backtest worker exited (code ${code}) before it finished`);
      finish();
    });
  }
}
