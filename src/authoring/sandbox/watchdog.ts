/**
 * The one CPU watchdog for strategy code that runs in a worker thread of its own (a sandboxed backtest, an
 * optimiser trial thread, a queue worker's trial thread): it reads the callback marks the thread leaves
 * (backtest-worker-marks.ts) and that thread's CPU time, and reports once when one callback runs past its budget.
 * It runs on the watching thread's event loop, so it costs the watched thread nothing but the marks.
 */
import { type MarkSnapshot, markedThreadId, readMarks } from './backtest-worker-marks.js';
import { type SandboxLimits, type SandboxStopCause, SandboxStoppedError } from './limits.js';
import { threadCpuMs } from './thread-cpu.js';

/**
 * A callback that uses no CPU but never returns (a wait) is stopped after this many budgets of wall time; one that
 * computes is stopped on its CPU time, so a loaded machine does not stop a healthy strategy.
 */
const WALL_BUDGETS = 10;

/** A running watchdog: the last callback it saw running, and how to stop watching. */
export interface CallbackWatchdog {
  /** The last mark seen with a callback running (the place a crash or heap cap is reported at). */
  last(): MarkSnapshot;
  /** Stops watching (idempotent). */
  stop(): void;
}

/** The call being watched: its sequence number, and the CPU and wall time when first seen. */
interface Watched {
  readonly seq: number;
  readonly cpu0: number | undefined;
  readonly wall0: number;
}

/**
 * Watches the marks in `marks`: `overrun` is called once, with the mark of the call, when a callback (or the file's
 * load) has spent its budget of CPU time, or ten budgets of wall time; watching stops then. The watched thread's CPU
 * time is read from /proc by the thread id the thread wrote into the marks; where it cannot be read, wall time counts.
 */
export function watchCallbacks(
  marks: SharedArrayBuffer,
  limits: SandboxLimits,
  overrun: (at: MarkSnapshot) => void,
): CallbackWatchdog {
  let watched: Watched | undefined;
  let last = readMarks(marks);
  let tid: number | undefined;
  const cpu = () => {
    tid ??= markedThreadId(marks);
    return tid === undefined ? undefined : threadCpuMs(tid);
  };
  // A quarter budget between looks, so a runaway call is stopped within 1.25 budgets of CPU.
  const tick = Math.max(5, Math.min(limits.callbackMs, limits.loadMs) / 4);
  const timer = setInterval(() => {
    const now = readMarks(marks);
    if (now.callback === undefined) {
      watched = undefined;
      return;
    }
    last = now;
    if (watched === undefined || watched.seq !== now.seq) {
      watched = { seq: now.seq, cpu0: cpu(), wall0: performance.now() };
      return;
    }
    const budget = now.callback === 'load' ? limits.loadMs : limits.callbackMs;
    const c = cpu();
    const wall = performance.now() - watched.wall0;
    // The first look at a call happens up to a tick after it began: that tick is charged as spent.
    const spent = c === undefined || watched.cpu0 === undefined ? wall : c - watched.cpu0 + tick;
    if (spent >= budget || wall >= budget * WALL_BUDGETS) {
      clearInterval(timer);
      overrun(now);
    }
  }, tick);
  // The watchdog never keeps a process alive by itself: the watched thread does that while it runs.
  timer.unref();
  return {
    last: () => last,
    stop: () => clearInterval(timer),
  };
}

/** Whose code a watchdog watches, for the stop report: the strategy's name and the file (or `ID@vN.ts`). */
export interface WatchedStrategy {
  readonly strategy: string;
  readonly file: string;
}

/** The stop report of a watched strategy at the mark `at` (the callback and bar it was in). */
export function stoppedAt(
  who: WatchedStrategy,
  cause: SandboxStopCause,
  at: MarkSnapshot,
  limits: SandboxLimits,
): SandboxStoppedError {
  return new SandboxStoppedError({
    strategy: who.strategy,
    file: who.file,
    callback: at.callback ?? 'the run',
    cause,
    barIndex: at.barIndex,
    barTime: at.barTime,
    limits,
  });
}
