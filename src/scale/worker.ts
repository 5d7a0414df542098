import { hostname } from 'node:os';
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { shareColumns, WorkerEvaluator } from '../backtest/optimizer/evaluators.js';
import type { SharedRunOptions } from '../backtest/optimizer/backtest-trial.js';
import type { RiskSettings } from '../backtest/optimizer/run-setup.js';
import type { TrialOutcome } from '../backtest/optimizer/types.js';
import type { Timeframe } from '../core/timeframe.js';
import { SandboxStoppedError } from '../authoring/sandbox/limits.js';
import { sandboxTrialGuard } from '../authoring/sandbox/trial-guard.js';
import {
  parseVersionRef,
  type StoredVersion,
  type StrategyVersionSource,
  versionFileName,
} from '../authoring/versions.js';
import { canonicalJson } from '../store/canonical-json.js';
import type { BacktestInput } from '../store/repositories/catalogue.js';
import { connectionFrom, QUEUE_NAME, type QueueSettings } from './connection.js';
import { DataCache } from './data-ref.js';
import { type TrialJob, type TrialJobResult, trialJobSchema } from './job.js';
import { statsKeys } from './stats.js';
import type { QueueTrialSetup } from './queue-trial.js';

/** Where a worker records results: the `backtests` store (an upsert by id, so a re-run job never doubles a row). */
export interface ResultSink {
  upsert(b: BacktestInput): Promise<void>;
}

/** Options of a queue worker. */
export interface QueueWorkerOptions {
  readonly settings: QueueSettings;
  /** Jobs run at once, each on its own thread (default 1). */
  readonly concurrency?: number;
  readonly results: ResultSink;
  /** Module URLs registering extra strategies in the trial threads. */
  readonly plugins?: readonly string[];
  /** Stored strategy versions (the store's `strategies`): jobs naming `ID@vN` run the version read from here. */
  readonly versions?: StrategyVersionSource;
  /**
   * How long a job's lock lasts without renewal (default 30 s). A worker that dies loses its lock after this and
   * the job is run again elsewhere (BullMQ stalled-job detection, checked every half lock).
   */
  readonly lockMs?: number;
  /** Receives one line per job event (the CLI prints them). */
  readonly log?: (line: string) => void;
}

interface PoolEntry {
  readonly evaluator: Promise<WorkerEvaluator>;
  users: number;
}

/** Trial thread pools keyed by their setup (data, strategy, run options); idle ones beyond two are closed. */
class PoolCache {
  private readonly pools = new Map<string, PoolEntry>();
  constructor(
    private readonly threads: number,
    private readonly plugins: readonly string[],
  ) {}

  async run(
    key: string,
    setup: () => QueueTrialSetup['trial'],
    job: TrialJob,
    version?: StoredVersion,
  ): Promise<TrialOutcome> {
    let entry = this.pools.get(key);
    if (!entry) {
      const setupData: QueueTrialSetup = {
        plugins: this.plugins,
        trial: setup(),
        ...(version ? { version } : {}),
      };
      entry = {
        evaluator: WorkerEvaluator.start({
          workers: this.threads,
          module: new URL('./queue-trial.ts', import.meta.url),
          setup: setupData,
          // A stored version is code we did not write: its trial threads run under the sandbox's CPU watchdog.
          ...(version ? { guard: sandboxTrialGuard({ strategy: job.strategy, file: versionFileName(version) }) } : {}),
        }),
        users: 0,
      };
      this.pools.set(key, entry);
      // A pool that cannot start (unknown strategy ...) is not kept: the job's next attempt tries again.
      entry.evaluator.catch(() => this.pools.get(key) === entry && this.pools.delete(key));
      this.evictIdle();
    }
    entry.users++;
    try {
      const ev = await entry.evaluator;
      return await ev.evaluate({ params: job.params, ...(job.window ? { window: job.window } : {}) });
    } catch (err) {
      // A broken pool (crashed thread, failed start) is dropped so the next attempt starts a fresh one.
      if (err instanceof Error && (err as { fatal?: boolean }).fatal) this.drop(key);
      throw err;
    } finally {
      entry.users--;
    }
  }

  private drop(key: string): void {
    const e = this.pools.get(key);
    if (!e) return;
    this.pools.delete(key);
    void e.evaluator.then((ev) => ev.close()).catch(() => undefined);
  }

  private evictIdle(): void {
    for (const [key, e] of this.pools) {
      if (this.pools.size <= 2) return;
      if (e.users === 0) this.drop(key);
    }
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((e) => e.evaluator.then((ev) => ev.close()).catch(() => undefined)));
  }
}

/**
 * The stored version a job names (`ID@vN` with its hash), read from the store and checked: a job without the hash,
 * a version this store lacks, or a source whose hash differs fails at once (UnrecoverableError: retrying cannot
 * help). Undefined for a built-in or plugin strategy.
 */
async function storedVersion(
  t: TrialJob,
  versions: StrategyVersionSource | undefined,
  jobId: string,
): Promise<StoredVersion | undefined> {
  const ref = parseVersionRef(t.strategy);
  if (ref === undefined) return undefined;
  if (t.strategyHash === undefined) {
    throw new UnrecoverableError(
      `job ${jobId}: strategy ${t.strategy} is a stored version but the job has no strategyHash`,
    );
  }
  if (versions === undefined)
    throw new UnrecoverableError(`job ${jobId}: this worker has no store to read ${t.strategy} from`);
  const v = await versions.version(ref.id, ref.version);
  if (v === undefined)
    throw new UnrecoverableError(`job ${jobId}: no stored strategy version ${t.strategy} in this worker's store`);
  if (v.source_hash !== t.strategyHash) {
    throw new UnrecoverableError(
      `job ${jobId}: stored strategy version ${t.strategy} has hash ${v.source_hash.slice(0, 16)}…, the job asks for ${t.strategyHash.slice(0, 16)}…; refusing to run it`,
    );
  }
  return v;
}

/**
 * A queue worker: takes trial jobs from the shared queue, fetches each job's data once by content hash, runs the
 * backtest on a worker thread (the event loop stays free to renew job locks), records the result in the store under
 * the job key and returns it. A run that throws fails the attempt; BullMQ retries it up to the job's attempts.
 */
export class QueueWorker {
  /** This worker's name in `queue status` (host:pid). */
  readonly id = `${hostname()}:${process.pid}`;
  private constructor(
    private readonly worker: Worker,
    private readonly prefix: string,
    private readonly redis: Redis,
    private readonly pools: PoolCache,
    /** The data cache (its `fetches` count shows data is fetched once per worker). */
    readonly cache: DataCache,
  ) {}

  /** Connects and starts taking jobs. */
  static async start(opts: QueueWorkerOptions): Promise<QueueWorker> {
    const concurrency = opts.concurrency ?? 1;
    const connection = connectionFrom(opts.settings);
    const prefix = opts.settings.prefix;
    const redis = new Redis({ ...(connection as RedisOptions), lazyConnect: true });
    await redis.connect();
    const cache = new DataCache(redis, prefix);
    const pools = new PoolCache(concurrency, opts.plugins ?? []);
    const log = opts.log ?? (() => undefined);
    const id = `${hostname()}:${process.pid}`;
    const keys = statsKeys(prefix);
    await redis.hset(keys.started, id, String(Date.now()));
    const lockMs = opts.lockMs ?? 30_000;
    const worker = new Worker<unknown, TrialJobResult>(
      QUEUE_NAME,
      async (job) => {
        const parsed = trialJobSchema.safeParse(job.data);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          // A malformed job never gets better: fail it now, no retries.
          throw new UnrecoverableError(`job ${job.id}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
        }
        const t = parsed.data;
        const started = Date.now();
        log(`active ${job.id} attempt ${job.attemptsMade + 1}`);
        const fetchesBefore = cache.fetches;
        const columns = await cache.get(t.dataHash);
        if (cache.fetches > fetchesBefore) log(`fetched data ${t.dataHash.slice(0, 12)} (${columns.length} bars)`);
        const version = await storedVersion(t, opts.versions, String(job.id));
        const key = canonicalJson([
          t.dataHash,
          t.symbol,
          t.timeframe,
          t.strategy,
          t.strategyHash ?? null,
          t.options,
          t.risk ?? null,
        ]);
        const out = await pools
          .run(
            key,
            () => ({
              symbol: t.symbol,
              timeframe: t.timeframe as Timeframe,
              columns: shareColumns(columns),
              strategy: t.strategy,
              options: t.options as SharedRunOptions,
              ...(t.risk ? { risk: t.risk as RiskSettings } : {}),
            }),
            t,
            version,
          )
          .catch((err: unknown) => {
            // The same code on the same bars overruns again: report it now instead of spending two more budgets.
            if (err instanceof SandboxStoppedError) throw new UnrecoverableError(err.message);
            throw err;
          });
        if (out.status === 'failed') throw new Error(out.error);
        if (out.status === 'ok') {
          await opts.results.upsert({
            id: String(job.id),
            status: 'done',
            config: {
              sweepId: t.sweepId,
              index: t.index,
              symbol: t.symbol,
              timeframe: t.timeframe,
              strategy: t.strategy,
              params: t.params,
              options: t.options,
              dataHash: t.dataHash,
              ...(t.window ? { window: t.window } : {}),
              worker: id,
            },
            metrics: out.metrics,
            ...(out.fingerprint ? { fingerprint: out.fingerprint } : {}),
            startedAt: started,
            finishedAt: Date.now(),
          });
        }
        await redis.hincrby(keys.completed, id, 1);
        log(`done ${job.id} ${out.status}`);
        return out;
      },
      {
        connection,
        prefix,
        concurrency,
        name: id,
        lockDuration: lockMs,
        stalledInterval: Math.max(500, Math.floor(lockMs / 2)),
        // A job whose worker died twice is still retried once more before it is reported.
        maxStalledCount: 2,
        autorun: false,
      },
    );
    worker.on('failed', (job, err) => {
      if (job) void redis.hincrby(keys.failed, id, 1).catch(() => undefined);
      log(`failed ${job?.id ?? '?'} attempt ${job?.attemptsMade ?? '?'}: ${err.message}`);
    });
    // Connection hiccups are retried by ioredis; report them instead of crashing.
    worker.on('error', (err) => log(`error ${err.message}`));
    void worker.run();
    await worker.waitUntilReady();
    return new QueueWorker(worker, prefix, redis, pools, cache);
  }

  /** Stops taking jobs, lets running ones finish, and disconnects. */
  async close(): Promise<void> {
    await this.worker.close();
    await this.pools.close();
    await this.redis.hdel(statsKeys(this.prefix).started, this.id).catch(() => 0);
    this.redis.disconnect();
  }
}
