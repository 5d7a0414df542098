import { randomUUID } from 'node:crypto';
import { Queue, QueueEvents } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { Evaluator, TrialOutcome, TrialRequest } from '../backtest/optimizer/types.js';
import type { BarColumns } from '../core/bar.js';
import { connectionFrom, QUEUE_NAME, type QueueSettings } from './connection.js';
import { publishColumns } from './data-ref.js';
import { JOB_ATTEMPTS, jobKey, type TrialJob, type TrialJobResult } from './job.js';

/** Live counts of one sweep, for the progress bar. */
export interface SweepCounts {
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly running: number;
}

/** A job that failed every attempt (or was cancelled): reported, the sweep goes on. */
export class JobFailedError extends Error {
  constructor(
    readonly jobId: string,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'JobFailedError';
  }
}

interface Pending {
  resolve: (r: TrialJobResult) => void;
  reject: (e: Error) => void;
}

/**
 * The coordinator side of one sweep: publishes data by content hash, puts one job per trial on the shared queue
 * (job id = sweep id + trial index, so a job is never added twice) and settles each job's promise from the queue's
 * event stream. Failed attempts are retried by BullMQ up to JOB_ATTEMPTS; a job that still fails rejects with
 * JobFailedError and the rest of the sweep carries on.
 */
export class Sweep {
  private readonly pending = new Map<string, Pending>();
  private readonly active = new Set<string>();
  private total = 0;
  private done = 0;
  private failed = 0;
  private closed = false;
  /** Called whenever a count changes. */
  onChange: ((c: SweepCounts) => void) | undefined;

  private constructor(
    /** This sweep's id: the prefix of its job ids and the `sweepId` of its stored results. */
    readonly id: string,
    private readonly settings: QueueSettings,
    private readonly queue: Queue,
    private readonly events: QueueEvents,
    private readonly redis: Redis,
  ) {
    const mine = (jobId: string) => jobId.startsWith(`${id}.`);
    events.on('active', ({ jobId }) => {
      if (!mine(jobId) || !this.pending.has(jobId)) return;
      this.active.add(jobId);
      this.changed();
    });
    for (const ev of ['waiting', 'delayed', 'stalled'] as const) {
      events.on(ev, ({ jobId }: { jobId: string }) => {
        if (this.active.delete(jobId)) this.changed();
      });
    }
    events.on('completed', ({ jobId, returnvalue }) => {
      if (!mine(jobId)) return;
      const value = typeof returnvalue === 'string' ? (JSON.parse(returnvalue) as TrialJobResult) : returnvalue;
      this.settle(jobId, value as unknown as TrialJobResult);
    });
    events.on('failed', ({ jobId, failedReason }) => {
      if (mine(jobId)) this.settle(jobId, undefined, failedReason);
    });
  }

  /** Connects to the queue; `id` defaults to a fresh random one. */
  static async open(settings: QueueSettings, id = `sw-${randomUUID().slice(0, 8)}`): Promise<Sweep> {
    const connection = connectionFrom(settings);
    const queue = new Queue(QUEUE_NAME, { connection, prefix: settings.prefix });
    const events = new QueueEvents(QUEUE_NAME, { connection, prefix: settings.prefix });
    const redis = new Redis({ ...(connection as RedisOptions), lazyConnect: true });
    try {
      await Promise.all([queue.waitUntilReady(), events.waitUntilReady(), redis.connect()]);
    } catch (err) {
      await Promise.allSettled([queue.close(), events.close()]);
      redis.disconnect();
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(`cannot reach the job queue's Redis: ${msg}`);
    }
    return new Sweep(id, settings, queue, events, redis);
  }

  /** The queue's key prefix. */
  get prefix(): string {
    return this.settings.prefix;
  }

  /** Stores the data once under its content hash; jobs then name it by the hash. */
  publish(columns: BarColumns): Promise<string> {
    return publishColumns(this.redis, this.settings.prefix, columns);
  }

  /** Current counts. */
  counts(): SweepCounts {
    return { total: this.total, done: this.done, failed: this.failed, running: this.active.size };
  }

  /**
   * Adds one trial job (key `<sweep>.<n>`, n counting the sweep's submissions from 0) and resolves with its result;
   * rejects with JobFailedError when it fails for good.
   */
  async submit(job: Omit<TrialJob, 'sweepId'>): Promise<TrialJobResult> {
    if (this.closed) throw new Error('sweep is closed');
    // Keys come from the sweep's own sequence: two evaluators (or folds) on one sweep never share a key.
    const jobId = jobKey(this.id, this.total);
    const result = new Promise<TrialJobResult>((resolve, reject) => this.pending.set(jobId, { resolve, reject }));
    // A job that fails before the awaits below finish (refused at once by the worker) rejects `result` while no one
    // holds it yet: keep that from being an unhandled rejection; the caller still receives it from the return.
    result.catch(() => undefined);
    this.total++;
    this.changed();
    const added = await this.queue.add('trial', { ...job, sweepId: this.id } satisfies TrialJob, {
      jobId,
      attempts: JOB_ATTEMPTS,
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600 },
    });
    // The event stream only carries what happened after the listener started; a job this fast is read back.
    const state = await added.getState();
    if (state === 'completed' || state === 'failed') {
      const j = await this.queue.getJob(jobId);
      if (j && state === 'completed') this.settle(jobId, j.returnvalue as TrialJobResult);
      else if (j) this.settle(jobId, undefined, j.failedReason);
    }
    return result;
  }

  /**
   * Cancels the sweep: removes its jobs that have not started (waiting, delayed, prioritised) and rejects their
   * promises; running jobs finish and their results are still stored. Returns how many jobs were removed.
   */
  async cancel(): Promise<number> {
    const jobs = await this.queue.getJobs(['waiting', 'delayed', 'prioritized', 'paused']);
    let removed = 0;
    for (const j of jobs) {
      if (!j?.id?.startsWith(`${this.id}.`)) continue;
      try {
        await j.remove();
        removed++;
        this.settle(j.id, undefined, 'cancelled', true);
      } catch {
        // Taken by a worker meanwhile: it runs to completion.
      }
    }
    return removed;
  }

  /** Stops listening and disconnects (the sweep's unsettled jobs stay on the queue). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([this.events.close(), this.queue.close()]);
    this.redis.disconnect();
  }

  private settle(jobId: string, value: TrialJobResult | undefined, reason?: string, cancelled = false): void {
    const p = this.pending.get(jobId);
    if (!p) return;
    this.pending.delete(jobId);
    this.active.delete(jobId);
    if (value !== undefined) {
      this.done++;
      p.resolve(value);
    } else {
      if (!cancelled) this.failed++;
      p.reject(new JobFailedError(jobId, reason ?? 'failed'));
    }
    this.changed();
  }

  private changed(): void {
    this.onChange?.(this.counts());
  }
}

/** The fixed part of every trial of a distributed optimisation: the data reference, the strategy, the run options. */
export type TrialBase = Omit<TrialJob, 'sweepId' | 'params' | 'window' | 'index'>;

/**
 * The optimiser's Evaluator over a Sweep: each trial becomes a queue job, so grid, random, TPE and walk-forward run
 * unchanged across machines. A job that fails for good is a failed trial, not a failed search.
 */
export class DistributedEvaluator implements Evaluator {
  private next = 0;
  constructor(
    private readonly sweep: Sweep,
    private readonly base: TrialBase,
    /** Trials in flight: all of a grid at once, a few for TPE so it learns between batches. */
    readonly concurrency: number,
  ) {}

  /** Runs one trial as a job. */
  async evaluate(req: TrialRequest): Promise<TrialOutcome> {
    try {
      return await this.sweep.submit({
        ...this.base,
        params: { ...req.params },
        ...(req.window ? { window: { from: req.window.from, to: req.window.to } } : {}),
        index: this.next++,
      });
    } catch (err) {
      if (err instanceof JobFailedError) return { status: 'failed', error: `${err.jobId}: ${err.reason}` };
      throw err;
    }
  }

  /** The sweep is closed by its owner. */
  async close(): Promise<void> {}
}
