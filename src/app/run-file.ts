/** The run file of a running runtime (`$TRADEFORGE_HOME/run/runtime.json`): how the CLI finds and signals it. */
import { existsSync, readFileSync } from 'node:fs';
import { TradeforgeError } from '../core/errors.js';
import { readCliToken } from '../server/api/cli-token.js';
import { type HomePaths, resolveHome } from './home.js';
import { runFilePath } from './runtime.js';

/** What the runtime writes when it is up. */
export interface RunFile {
  pid: number;
  url: string;
  startedAt: number;
  profile: string;
  configFile: string | null;
}

/** True when a process with this pid exists. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The run file when it exists and its process is alive; undefined otherwise (a crashed runtime leaves a stale one). */
export function readLiveRunFile(home: HomePaths): RunFile | undefined {
  const file = runFilePath(home);
  if (!existsSync(file)) return undefined;
  try {
    const r = JSON.parse(readFileSync(file, 'utf8')) as RunFile;
    return typeof r.pid === 'number' && processAlive(r.pid) ? r : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Calls the running runtime's API with the CLI token from `run/api-token` (written by the runtime, mode 0600).
 * A refusal throws with the runtime's message.
 */
export async function callRuntime<T>(
  run: RunFile,
  home: HomePaths,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  timeoutMs = 5_000,
): Promise<T> {
  const token = readCliToken(home.run);
  const res = await fetch(`${run.url}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(timeoutMs),
  });
  if (!res.ok) {
    const err = (await res.json().catch(() => ({}))) as { message?: string };
    // A refusal is the runtime's answer, not a crash of ours: one line (TradeforgeError), no stack-trace hint.
    throw new TradeforgeError(
      'RUNTIME_REFUSED',
      `runtime answered ${res.status} for ${method} ${path}${err.message ? `: ${err.message}` : ''}`,
    );
  }
  return (await res.json()) as T;
}

/** How `callLiveRuntime` finds and waits for the runtime. */
export interface LiveCallOptions {
  /** The home whose run file names the runtime (default: `$TRADEFORGE_HOME`). */
  home?: HomePaths;
  /** How long to wait for the answer (default: callRuntime's). */
  timeoutMs?: number;
}

/**
 * Calls the API of the runtime running in the home (its run file and CLI token); throws NOT_RUNNING, saying how to
 * start one, when none is running. The one way a CLI command reaches the live runtime.
 */
export async function callLiveRuntime<T>(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  o: LiveCallOptions = {},
): Promise<T> {
  const home = o.home ?? resolveHome();
  const run = readLiveRunFile(home);
  if (!run) throw new TradeforgeError('NOT_RUNNING', 'no runtime is running: start it with `tradeforge start`');
  return callRuntime<T>(run, home, method, path, body, o.timeoutMs);
}
