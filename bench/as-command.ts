import { spawnSync } from 'node:child_process';
import { basename } from 'node:path';
import { missingNodeFlags, nodeFlagsFor } from '../bin/node-flags.js';

/**
 * Runs a bench's measurement in a process started as `tradeforge <command>` starts (the node flags of
 * bin/node-flags.js): here when this process already has them, else in a child started with them, since V8 reads
 * GC flags only at start-up. `self` is the bench file, which measures when run as the main script.
 */
export async function measureAsCommand(
  command: string,
  self: string,
  measure: () => Promise<void> | void,
): Promise<void> {
  const missing = missingNodeFlags(command, process.execArgv);
  if (missing.length === 0) return measure();
  const child = spawnSync(process.execPath, [...missing, ...process.execArgv, self], { stdio: 'inherit' });
  if (child.status !== 0) throw new Error(`${basename(self)} exited with ${child.status ?? child.signal}`);
}

/** The node flags of `command` as a bench prints them (`none` when it has none). */
export function describeNodeFlags(command: string): string {
  const flags = nodeFlagsFor(command);
  return flags.length === 0 ? 'none' : flags.join(' ');
}
