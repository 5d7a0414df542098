import { spawnSync } from 'node:child_process';

/**
 * Sets this process's core-dump limit to zero (soft and hard), so a crash cannot write the vault's keys, the
 * password or revealed secrets to disk. Node has no setrlimit: util-linux `prlimit` does it for our pid. Returns
 * false when that was not possible (no prlimit), which the caller reports.
 */
export function disableCoreDumps(pid: number = process.pid): boolean {
  const r = spawnSync('prlimit', ['--pid', String(pid), '--core=0:0'], {
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  return r.status === 0;
}
