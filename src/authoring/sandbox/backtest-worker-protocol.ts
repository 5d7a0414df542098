import type { BacktestOptions, BacktestResult } from '../../backtest/runner.js';
import type { EngineLog } from '../../backtest/runner.js';
import type { WireError } from './protocol.js';

/** A backtest of a code strategy file to run in a sandboxed worker: the file's text and the run's settings. */
export interface SandboxedBacktestJob {
  /** The strategy file's source (TypeScript or JavaScript). */
  readonly source: string;
  /** The name errors and stop reports give the file (the path as the user wrote it, or `ID@vN.ts`). */
  readonly file: string;
  /** The run's settings; everything but the strategy, the log and the bus (those live in the worker / host). */
  readonly options: Omit<BacktestOptions, 'strategy' | 'log' | 'bus' | 'risk'>;
}

/** Data a backtest worker starts with. */
export interface BacktestWorkerData {
  /** The file's code, gated and transpiled on the host (the worker never loads the compiler). */
  readonly js: string;
  readonly file: string;
  readonly options: SandboxedBacktestJob['options'];
  /** The callback marks (backtest-worker-marks.ts). */
  readonly marks: SharedArrayBuffer;
  readonly sdkBundle: string;
}

/** What a backtest worker posts: the strategy's name once loaded, log lines, then the result or an error. */
export type BacktestWorkerPost =
  | { kind: 'loaded'; name: string }
  | { kind: 'log'; level: Parameters<EngineLog>[0]; message: string; time: number }
  | { kind: 'result'; result: BacktestResult }
  | { kind: 'error'; error: WireError };
