import { lstatSync, type Stats, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ValidationError } from '../core/errors.js';

/** What a path is, in words, for an error message; null when it does not exist. */
function kindOf(st: Stats): string {
  if (st.isSymbolicLink()) return 'a symbolic link';
  if (st.isDirectory()) return 'a directory';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  return 'a file';
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** The nearest existing ancestor of `path` must be a directory (a file in the way cannot become a folder). */
function checkAncestors(flag: string, path: string): void {
  let dir = dirname(resolve(path));
  for (;;) {
    const st = lstatOrNull(dir);
    if (st !== null) {
      // A symbolic link to a directory is a fine parent: the file is written inside it, the link stays.
      const target = st.isSymbolicLink() ? statSync(dir, { throwIfNoEntry: false }) : st;
      if (!target?.isDirectory()) {
        throw new ValidationError(`--${flag} ${path}: ${dir} is ${kindOf(st)}, not a folder`, flag);
      }
      return;
    }
    const up = dirname(dir);
    if (up === dir) return;
    dir = up;
  }
}

/**
 * Checks an output file before anything is computed or written: it may be missing or a regular file (replaced);
 * a directory, a symbolic link, a device, a pipe or a socket is refused (never replaced), as is a file standing
 * where a folder of the path is needed. One-line ValidationError naming the flag and the path.
 */
export function checkOutputFile(flag: string, path: string): void {
  const st = lstatOrNull(path);
  if (st !== null && !st.isFile()) {
    throw new ValidationError(`--${flag} ${path}: is ${kindOf(st)}; give the path of a file to write`, flag);
  }
  checkAncestors(flag, path);
}

/**
 * Checks an output folder: it may be missing (created) or a directory (a symbolic link to one is followed);
 * each of `files` inside it must be missing or a regular file.
 */
export function checkOutputDir(flag: string, path: string, files: readonly string[] = []): void {
  const st = lstatOrNull(path);
  if (st !== null) {
    const target = st.isSymbolicLink() ? statSync(path, { throwIfNoEntry: false }) : st;
    if (!target?.isDirectory()) {
      throw new ValidationError(`--${flag} ${path}: is ${kindOf(st)}, not a folder`, flag);
    }
  } else checkAncestors(flag, path);
  for (const f of files) checkOutputFile(flag, resolve(path, f));
}
