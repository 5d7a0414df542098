import { type BarColumns, ValidationError } from '../../core/index.js';
import { defaultWorkerCount, type WorkerGuardFactory, WorkerPool } from './pool.js';
import type { Evaluator, TrialOutcome, TrialRequest, TrialRunner } from './types.js';
import type { TrialWorkerData } from './worker.js';

/** Runs trials one at a time in this thread (tests, `--workers 1`-like debugging, tiny searches). */
export class LocalEvaluator implements Evaluator {
  readonly concurrency = 1;
  constructor(private readonly runner: TrialRunner) {}

  /** Runs the trial now; a thrown error rejects. */
  async evaluate(req: TrialRequest): Promise<TrialOutcome> {
    return this.runner(req);
  }

  /** Nothing to release. */
  async close(): Promise<void> {}
}

/**
 * Copies columns into SharedArrayBuffers once, so every worker reads the same memory (structured clone shares
 * a SharedArrayBuffer instead of copying it). Text columns are plain arrays and are copied per worker.
 */
export function shareColumns(c: BarColumns): BarColumns {
  const share = (a: Float64Array) => {
    const s = new Float64Array(new SharedArrayBuffer(a.length * Float64Array.BYTES_PER_ELEMENT));
    s.set(a);
    return s;
  };
  return {
    length: c.length,
    time: share(c.time),
    open: share(c.open),
    high: share(c.high),
    low: share(c.low),
    close: share(c.close),
    volume: share(c.volume),
    ...(c.extra ? { extra: Object.fromEntries(Object.entries(c.extra).map(([k, v]) => [k, share(v)])) } : {}),
    ...(c.extraText ? { extraText: c.extraText } : {}),
  };
}

/** Options of a worker-thread evaluator. */
export interface WorkerEvaluatorOptions {
  /** Default: every core (os.availableParallelism()). */
  readonly workers?: number;
  /** URL of the trial module (exports `createTrialRunner`). */
  readonly module: URL;
  /** Handed to `createTrialRunner` in each worker; put shared columns (shareColumns) in it. */
  readonly setup: unknown;
  /** A guard per worker thread (the strategy sandbox's CPU watchdog when the strategy is code we did not write). */
  readonly guard?: WorkerGuardFactory;
}

/** Runs trials on a pool of worker threads, one trial per worker at a time. */
export class WorkerEvaluator implements Evaluator {
  readonly concurrency: number;
  private readonly pool: WorkerPool;

  private constructor(pool: WorkerPool) {
    this.pool = pool;
    this.concurrency = pool.size;
  }

  /** Starts the workers and waits until each has loaded the module and the data. */
  static async start(opts: WorkerEvaluatorOptions): Promise<WorkerEvaluator> {
    const workers = opts.workers ?? defaultWorkerCount();
    if (!Number.isInteger(workers) || workers < 1) {
      throw new ValidationError(`--workers must be a positive integer, got ${workers}`, 'workers');
    }
    const data: TrialWorkerData = { module: opts.module.href, setup: opts.setup };
    const pool = new WorkerPool({
      size: workers,
      script: new URL('./worker.ts', import.meta.url),
      workerData: data,
      ...(opts.guard ? { guard: opts.guard } : {}),
    });
    try {
      await pool.ready();
    } catch (err) {
      await pool.close();
      throw err;
    }
    return new WorkerEvaluator(pool);
  }

  /** Runs the trial on the next free worker. */
  evaluate(req: TrialRequest): Promise<TrialOutcome> {
    return this.pool.run(req) as Promise<TrialOutcome>;
  }

  /** Stops the workers. */
  close(): Promise<void> {
    return this.pool.close();
  }
}
