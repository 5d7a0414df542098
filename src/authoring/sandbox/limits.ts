import { StrategyError } from '../../core/errors.js';

/** What a sandbox worker may spend: CPU time per callback, time to load the file, and its heap. */
export interface SandboxLimits {
  /** Milliseconds one callback (onBar, onTick, onFill, create, ...) may run in the worker, host calls excluded. */
  readonly callbackMs: number;
  /** Milliseconds evaluating the file's top level may take (the worker's start-up is not counted). */
  readonly loadMs: number;
  /** The worker's JavaScript heap cap in MB (V8 old generation). */
  readonly memoryMb: number;
}

/** Defaults: generous enough for a loaded machine, small enough that a stuck strategy is noticed within a bar. */
export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = { callbackMs: 1000, loadMs: 5000, memoryMb: 128 };

/** Why the sandbox stopped a strategy. */
export type SandboxStopCause = 'cpu-budget' | 'memory-cap' | 'worker-exit';

/** Where the stop happened: the strategy, its callback and the bar it was handling. */
export interface SandboxStopReport {
  readonly strategy: string;
  readonly file: string;
  readonly callback: string;
  readonly cause: SandboxStopCause;
  /** The bar index and time the callback was handling (undefined outside a bar, e.g. while loading). */
  readonly barIndex: number | undefined;
  readonly barTime: number | undefined;
  readonly limits: SandboxLimits;
}

function describe(r: SandboxStopReport): string {
  const where =
    r.barTime === undefined
      ? ''
      : ` at bar ${r.barIndex ?? '?'} (${Number.isFinite(r.barTime) ? new Date(r.barTime).toISOString() : r.barTime})`;
  const why =
    r.cause === 'cpu-budget'
      ? `ran past its CPU budget of ${r.limits.callbackMs} ms`
      : r.cause === 'memory-cap'
        ? `ran past its memory cap of ${r.limits.memoryMb} MB`
        : `lost its sandbox worker (the heap cap of ${r.limits.memoryMb} MB, or a crash)`;
  return `${r.file}: strategy ${r.strategy} ${why} in ${r.callback}${where}; the sandbox stopped it`;
}

/** A sandboxed strategy was stopped (budget, memory cap, or its worker died); the host and other strategies go on. */
export class SandboxStoppedError extends StrategyError {
  readonly report: SandboxStopReport;
  constructor(report: SandboxStopReport) {
    super(describe(report), { strategyId: report.strategy, barTime: report.barTime });
    this.report = report;
  }
}
