import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Mode of every folder tradeforge creates under its home: owner only. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of every file tradeforge creates under its home (database, WAL, logs, reports, run files, exports). */
export const PRIVATE_FILE_MODE = 0o600;

/** Sets the process umask so every file and folder created from now on is private to its owner. */
export function usePrivateUmask(): void {
  process.umask(0o077);
}

/** What `securePrivateHome` changed. */
export interface TightenResult {
  /** Paths whose group/other permission bits were removed. */
  tightened: string[];
}

/** Makes one path private (folders 0700; files lose their group and other bits); never follows links. */
export function tightenPath(path: string): boolean {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return false;
  const mode = st.mode & 0o7777;
  const want = st.isDirectory() ? PRIVATE_DIR_MODE : mode & 0o700;
  if (mode === want) return false;
  chmodSync(path, want);
  return true;
}

/**
 * Creates the home folder 0700 (when missing) and tightens everything already under it: folders to 0700, files to
 * 0600 (an executable bit of the owner is kept). `notice` is called once with what changed, so an operator learns
 * that files were readable by others.
 */
export function securePrivateHome(root: string, notice?: (message: string) => void): TightenResult {
  if (!existsSync(root)) mkdirSync(root, { recursive: true, mode: PRIVATE_DIR_MODE });
  const tightened: string[] = [];
  const walk = (p: string): void => {
    if (tightenPath(p)) tightened.push(p);
    const st = lstatSync(p);
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  walk(root);
  if (tightened.length > 0 && notice) {
    const shown = tightened.slice(0, 3).join(', ');
    notice(
      `made ${tightened.length} path(s) under ${root} private (folders 0700, files 0600): ${shown}${tightened.length > 3 ? ', ...' : ''}`,
    );
  }
  return { tightened };
}
