import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ConfigError, DataError, StrategyError, ValidationError } from '../../core/errors.js';
import { BACKTEST_YOUNG_GENERATION_MB } from '../young-generation.js';

/** An error as it crosses the worker boundary (class name kept so user errors stay user errors). */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly field?: string;
  readonly stack?: string;
}

/** Messages a pool worker posts to the main thread. */
export type WorkerMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'init-error'; readonly error: WireError }
  | { readonly type: 'result'; readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly type: 'result'; readonly id: number; readonly ok: false; readonly error: WireError };

/** Turns any thrown value into a WireError. */
export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const field = err instanceof ValidationError ? err.field : undefined;
    return {
      name: err.name,
      message: err.message,
      ...(field ? { field } : {}),
      ...(err.stack ? { stack: err.stack } : {}),
    };
  }
  return { name: 'Error', message: String(err) };
}

/** Rebuilds a typed error on the main thread, so the CLI still prints user mistakes in one line. */
export function fromWireError(e: WireError): Error {
  switch (e.name) {
    case 'ValidationError':
      return new ValidationError(e.message, e.field);
    case 'ConfigError':
      return new ConfigError('', e.message);
    case 'DataError':
      return new DataError(e.message);
    case 'StrategyError':
      return new StrategyError(e.message);
    default: {
      const err = new Error(e.message);
      if (e.stack) err.stack = e.stack;
      return err;
    }
  }
}

/**
 * Source of a worker that registers tsx in its own thread, then imports the TypeScript entry `script`.
 * Node 20 does not apply `--import tsx` from a worker's execArgv to the worker's entry file, so the pool starts
 * this small bootstrap (eval) instead; the tsx API is resolved from this package, so any cwd works.
 */
export function tsxWorkerSource(script: URL): string {
  const api = import.meta.resolve('tsx/esm/api');
  return `import(${JSON.stringify(api)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(script.href)}); });`;
}

/** The pool itself broke (a worker crashed or exited): no later trial can run, so the search must stop. */
export class WorkerPoolError extends Error {
  /** Tells the search loop to abort instead of counting a failed trial. */
  readonly fatal = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WorkerPoolError';
  }
}

/** Default worker count: every core the process may use. */
export function defaultWorkerCount(): number {
  return availableParallelism();
}

/**
 * Something watching one pool worker from this thread (the strategy sandbox's CPU watchdog for code we did not
 * write): what it hands the worker, and how to stop watching when the worker ends.
 */
export interface WorkerGuard {
  /** Handed to the worker as `workerData.guard` (e.g. the shared buffer the worker marks its callbacks in). */
  readonly data: unknown;
  /** Stops watching. */
  close(): void;
}

/**
 * Makes the guard of one worker; the guard calls `stop(err)` to end that worker: the pool terminates it and fails
 * with `err` (its task and every queued one reject with it, and the search stops with its message).
 */
export type WorkerGuardFactory = (stop: (err: Error) => void) => WorkerGuard;

/** Options of a WorkerPool. */
export interface WorkerPoolOptions {
  readonly size: number;
  /** The worker entry (a .ts file: each worker registers tsx first, see tsxWorkerSource). */
  readonly script: URL;
  /** Posted once to every worker at start (shared-memory arrays in it are shared, not copied). */
  readonly workerData: unknown;
  /** A guard per worker (its `data` joins the worker's `workerData` as `guard`). */
  readonly guard?: WorkerGuardFactory;
}

interface Slot {
  worker: Worker;
  guard?: WorkerGuard;
  busy: boolean;
  task?: { id: number; resolve: (v: unknown) => void; reject: (e: Error) => void };
}

/**
 * A fixed set of worker threads running one task at a time each, in submission order. Data goes to the workers
 * once (`workerData`); each task and its answer are small messages. A crashed worker fails the pool: its task
 * and every queued one reject, later `run` calls reject too.
 */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: { msg: unknown; resolve: (v: unknown) => void; reject: (e: Error) => void }[] = [];
  private nextId = 1;
  private broken: Error | undefined;
  private closed = false;
  private readonly readyPromise: Promise<void>;

  constructor(opts: WorkerPoolOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1) {
      throw new ValidationError(`--workers must be a positive integer, got ${opts.size}`, 'workers');
    }
    const readies: Promise<void>[] = [];
    for (let i = 0; i < opts.size; i++) {
      // The guard is made before its worker: the worker starts with the guard's data in hand.
      let slot: Slot | undefined;
      const guard = opts.guard?.((err) => {
        if (slot === undefined || this.broken || this.closed) return;
        void slot.worker.terminate();
        // The pool is broken by the stop (its worker is gone): the search ends with this error, not a failed trial.
        this.fail(Object.assign(err, { fatal: true }));
      });
      const workerData = guard === undefined ? opts.workerData : { ...(opts.workerData as object), guard: guard.data };
      const worker = new Worker(tsxWorkerSource(opts.script), {
        eval: true,
        workerData,
        // The backtest young generation (young-generation.js): with the default one a trial of 100k bars triggers about
        // one scavenge that copies the run's live state; about 7% less CPU per trial (docs/scale-out.md).
        resourceLimits: { maxYoungGenerationSizeMb: BACKTEST_YOUNG_GENERATION_MB },
      });
      slot = { worker, busy: true, ...(guard ? { guard } : {}) };
      const thisSlot = slot;
      this.slots.push(thisSlot);
      readies.push(
        new Promise<void>((resolve, reject) => {
          worker.on('message', (m: WorkerMessage) => {
            if (m.type === 'ready') {
              thisSlot.busy = false;
              resolve();
              this.pump();
            } else if (m.type === 'init-error') {
              const err = fromWireError(m.error);
              reject(err);
              this.fail(err);
            } else this.settle(thisSlot, m);
          });
          worker.on('error', (cause) => {
            const err = new WorkerPoolError(`optimiser worker crashed: ${cause.message}`, { cause });
            reject(err);
            this.fail(err);
          });
          worker.on('exit', (code) => {
            thisSlot.guard?.close();
            if (this.closed) return;
            // A worker its guard stopped (or the pool already failing) reports the error that broke the pool.
            const err = this.broken ?? new WorkerPoolError(`optimiser worker exited with code ${code}`);
            reject(err);
            this.fail(err);
          });
        }),
      );
    }
    this.readyPromise = Promise.all(readies).then(() => undefined);
    // A failed start is also reported through run(); keep the unhandled-rejection tracker quiet.
    this.readyPromise.catch(() => undefined);
  }

  /** Number of workers. */
  get size(): number {
    return this.slots.length;
  }

  /** Resolves when every worker has loaded its module and data. */
  ready(): Promise<void> {
    return this.readyPromise;
  }

  /** Runs one task on the next free worker. */
  run(msg: unknown): Promise<unknown> {
    if (this.broken) return Promise.reject(this.broken);
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ msg, resolve, reject });
      this.pump();
    });
  }

  /** Stops every worker; pending tasks reject. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new Error('worker pool closed');
    for (const q of this.queue.splice(0)) q.reject(err);
    for (const s of this.slots) s.task?.reject(err);
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.busy) continue;
      const q = this.queue.shift()!;
      const id = this.nextId++;
      slot.busy = true;
      slot.task = { id, resolve: q.resolve, reject: q.reject };
      slot.worker.postMessage({ id, msg: q.msg });
    }
  }

  private settle(slot: Slot, m: Extract<WorkerMessage, { type: 'result' }>): void {
    const task = slot.task;
    slot.task = undefined;
    slot.busy = false;
    if (task && task.id === m.id) {
      if (m.ok) task.resolve(m.value);
      else task.reject(fromWireError(m.error));
    }
    this.pump();
  }

  private fail(err: Error): void {
    if (this.broken || this.closed) return;
    this.broken = err;
    for (const q of this.queue.splice(0)) q.reject(err);
    for (const s of this.slots) {
      s.task?.reject(err);
      s.task = undefined;
    }
    void Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
