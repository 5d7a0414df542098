import { readFileSync } from 'node:fs';

// Linux reports process start times in clock ticks; 100 per second on every mainstream kernel configuration.
const CLOCK_TICKS_PER_SECOND = 100;
// btime is whole seconds and the run file is written after the process starts: allow that much slack.
const START_SLACK_MS = 2_000;

/** What the kernel says about a running process (Linux `/proc`); undefined where `/proc` is not available. */
export interface ProcessIdentity {
  /** Start time, epoch ms (to about a second). */
  startedAt: number;
  /** argv, as the process was started. */
  argv: string[];
}

/** Reads a process's start time and command line from /proc; undefined when there is no such process or no /proc. */
export function processIdentity(pid: number): ProcessIdentity | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(fields[19]);
    const btime = Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]);
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    if (!Number.isFinite(startTicks) || !Number.isFinite(btime)) return undefined;
    return { startedAt: (btime + startTicks / CLOCK_TICKS_PER_SECOND) * 1000, argv };
  } catch {
    return undefined;
  }
}

/**
 * Why the process with this pid is not the runtime that wrote a run file at `runStartedAt`, or undefined when it is.
 * A crashed runtime's pid can be reused by an unrelated program: it started after the run file was written, or its
 * command line is not tradeforge's. Without /proc (not Linux) only liveness can be known and undefined is returned.
 */
export function notTheRuntime(pid: number, runStartedAt: number): string | undefined {
  const id = processIdentity(pid);
  if (!id) return undefined;
  const cmd = id.argv.join(' ');
  if (id.startedAt > runStartedAt + START_SLACK_MS) {
    return `pid ${pid} started at ${new Date(id.startedAt).toISOString()}, after the run file was written (${new Date(runStartedAt).toISOString()}): the runtime crashed and the pid was reused by \`${cmd.slice(0, 80)}\``;
  }
  if (!/tradeforge|cli\/main\.[jt]s/.test(cmd)) {
    return `pid ${pid} is \`${cmd.slice(0, 80)}\`, not a tradeforge runtime`;
  }
  return undefined;
}
