/**
 * Strategy code we did not write, in the optimiser's trial threads (local pools and queue workers): the same marks
 * and CPU watchdog as a sandboxed backtest (backtest-worker-marks.ts, watchdog.ts). The pool's guard makes the marks
 * and watches them from the pool's thread; the trial module marks the strategy's load and every callback in the
 * trial thread. A callback past its budget ends the thread and the pool with a SandboxStoppedError.
 */
import type { WorkerGuardFactory } from '../../backtest/optimizer/pool.js';
import type { StrategyDefinition } from '../../strategy/types.js';
import { CallbackMarks, MARK_BYTES, markedDefinition } from './backtest-worker-marks.js';
import { DEFAULT_SANDBOX_LIMITS, type SandboxLimits } from './limits.js';
import { stoppedAt, type WatchedStrategy, watchCallbacks } from './watchdog.js';

/** What a guarded trial thread receives (as the pool's guard data): the buffer it marks its callbacks in. */
interface TrialGuardData {
  readonly marks: SharedArrayBuffer;
}

/** The pool guard for trial threads that run `who`: one set of marks and one watchdog per thread. */
export function sandboxTrialGuard(
  who: WatchedStrategy,
  limits: SandboxLimits = DEFAULT_SANDBOX_LIMITS,
): WorkerGuardFactory {
  return (stop) => {
    const marks = new SharedArrayBuffer(MARK_BYTES);
    const watchdog = watchCallbacks(marks, limits, (at) => stop(stoppedAt(who, 'cpu-budget', at, limits)));
    const data: TrialGuardData = { marks };
    return { data, close: () => watchdog.stop() };
  };
}

/**
 * In a trial thread: compiles the strategy with `load` marked, and returns it with every callback marked; without a
 * guard (a built-in strategy, or a pool with no watchdog) it only compiles.
 */
export function guardedStrategy(guard: unknown, compile: () => StrategyDefinition): StrategyDefinition {
  const buffer = (guard as Partial<TrialGuardData> | undefined)?.marks;
  if (!(buffer instanceof SharedArrayBuffer)) return compile();
  const marks = new CallbackMarks(buffer);
  return markedDefinition(marks.around('load', compile), marks);
}
