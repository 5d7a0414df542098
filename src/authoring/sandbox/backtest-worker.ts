/**
 * Backtests of strategy files in a sandbox worker: the whole run (engine and strategy) happens in a worker thread
 * with a heap cap, the strategy in the in-thread realm there (so a bar costs what it costs in-thread), and this
 * thread keeps the watchdog (watchdog.ts): it reads the callback marks the worker leaves and the worker thread's CPU
 * time, and terminates the worker when one callback runs past its CPU budget. A heap past the cap ends the worker too. Both
 * end in a SandboxStoppedError naming the file, strategy, callback, bar and budget; nothing of the run is kept.
 */
import { basename, extname } from 'node:path';
import { Worker } from 'node:worker_threads';
import { tsxWorkerSource } from '../../backtest/optimizer/pool.js';
import type { BacktestResult } from '../../backtest/runner.js';
import { ValidationError } from '../../core/errors.js';
import { transpileCodeStrategy } from '../files/code-loader.js';
import type { EngineLog } from '../../backtest/runner.js';
import { MARK_BYTES, type MarkSnapshot, readMarks } from './backtest-worker-marks.js';
import type { BacktestWorkerData, BacktestWorkerPost, SandboxedBacktestJob } from './backtest-worker-protocol.js';
import { DEFAULT_SANDBOX_LIMITS, type SandboxLimits, type SandboxStopCause } from './limits.js';
import type { WireError } from './protocol.js';
import { sdkBundleSource } from './sdk-bundle.js';
import { stoppedAt, watchCallbacks } from './watchdog.js';

export type { SandboxedBacktestJob } from './backtest-worker-protocol.js';

/** Options of a sandboxed backtest. */
export interface SandboxedBacktestOptions {
  /** Budgets (DEFAULT_SANDBOX_LIMITS when left out): `callbackMs` per callback, `loadMs` for the file's load. */
  readonly limits?: SandboxLimits;
  /** Where the engine's log lines go (they travel from the worker). */
  readonly log?: EngineLog;
}

/**
 * The heap cap of a backtest worker: the strategy's cap (`limits.memoryMb`) plus the engine's own share, which
 * grows with the bars (the equity curve and the run's records live in the same heap as the strategy).
 */
export function backtestHeapMb(limits: SandboxLimits, bars: number): number {
  return limits.memoryMb + 64 + Math.ceil(bars / 4096);
}

function barsOf(job: SandboxedBacktestJob): number {
  const data = Array.isArray(job.options.data) ? job.options.data : [job.options.data];
  return data.reduce((n: number, d: { columns: { length: number } }) => n + d.columns.length, 0);
}

function fromWire(e: WireError): Error {
  return e.name === 'ValidationError' ? new ValidationError(e.message, e.field) : new Error(e.message);
}

/**
 * Runs a backtest of a code strategy file in a sandbox worker and resolves with its result; rejects with a
 * SandboxStoppedError when the watchdog or the heap cap stops the strategy, with a ValidationError for a bad file
 * or bad parameters. The safety gate's refusal throws at once (before any worker starts).
 */
export function runSandboxedBacktest(
  job: SandboxedBacktestJob,
  options: SandboxedBacktestOptions = {},
): Promise<BacktestResult> {
  const limits = options.limits ?? DEFAULT_SANDBOX_LIMITS;
  const heapMb = backtestHeapMb(limits, barsOf(job));
  const marks = new SharedArrayBuffer(MARK_BYTES);
  // The gate and the transpile run here: a refused file never starts a worker, and the worker never loads the compiler.
  const js = transpileCodeStrategy(job.source, job.file);
  const workerData: BacktestWorkerData = {
    js,
    file: job.file,
    options: job.options,
    marks,
    sdkBundle: sdkBundleSource(),
  };
  const worker = new Worker(tsxWorkerSource(new URL('./backtest-worker-main.ts', import.meta.url)), {
    eval: true,
    workerData,
    resourceLimits: {
      maxOldGenerationSizeMb: heapMb,
      maxYoungGenerationSizeMb: 16,
      stackSizeMb: 4,
    },
    stdout: false,
    stderr: false,
  });
  return new Promise<BacktestResult>((resolve, reject) => {
    let name: string | undefined;
    let settled = false;
    const finish = (f: () => void) => {
      if (settled) return;
      settled = true;
      watchdog.stop();
      f();
    };
    const stopped = (cause: SandboxStopCause, at: MarkSnapshot) =>
      // The cap the report names is the worker's: the strategy's and the engine's heap together.
      stoppedAt({ strategy: name ?? fileStem(job.file), file: job.file }, cause, at, { ...limits, memoryMb: heapMb });
    const watchdog = watchCallbacks(marks, limits, (at) => {
      finish(() => reject(stopped('cpu-budget', at)));
      void worker.terminate();
    });
    worker.on('message', (m: BacktestWorkerPost) => {
      switch (m.kind) {
        case 'loaded':
          name = m.name;
          return;
        case 'log':
          options.log?.(m.level, m.message, m.time);
          return;
        case 'result':
          finish(() => resolve(m.result));
          void worker.terminate();
          return;
        case 'error':
          finish(() => reject(fromWire(m.error)));
          void worker.terminate();
          return;
      }
    });
    worker.on('error', (err: Error & { code?: string }) => {
      const at = readMarks(marks);
      const where = at.callback === undefined ? watchdog.last() : at;
      finish(() =>
        reject(
          err.code === 'ERR_WORKER_OUT_OF_MEMORY'
            ? stopped('memory-cap', where)
            : new Error(`${job.file}: the backtest worker failed: ${err.message}`),
        ),
      );
    });
    worker.on('exit', (code) => {
      finish(() => reject(stopped('worker-exit', watchdog.last())));
      void code;
    });
  });
}

/** A stop before the file has loaded names the strategy by the file's base name. */
function fileStem(file: string): string {
  return basename(file, extname(file));
}
