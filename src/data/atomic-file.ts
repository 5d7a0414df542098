import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  type Stats,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ValidationError } from '../core/errors.js';

/** Suffix of temporary files; readers and listings ignore files ending with it. */
export const TEMP_SUFFIX = '.tmp';

/**
 * Writes a file so that readers see either the old or the new content, never a torn file: the writer fills a temp
 * file in the same directory, which is fsynced, renamed over the target, and the directory is fsynced. On any error
 * the temp file is removed and the target is untouched.
 */
export function writeFileAtomic(path: string, write: (fd: number) => void): void {
  // The rename would replace whatever the path is: refuse anything but a regular file (a symlink, a device such
  // as /dev/null, a directory), so a mistyped output never destroys it.
  const existing = existingEntry(path);
  if (existing !== undefined && !existing.isFile()) {
    const what = existing.isSymbolicLink()
      ? 'a symbolic link'
      : existing.isDirectory()
        ? 'a directory'
        : 'not a regular file';
    throw new ValidationError(`${path}: is ${what}; refusing to replace it`, 'path');
  }
  const dir = dirname(path);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTDIR') {
      throw new ValidationError(`${path}: cannot create the folder ${dir}, a file is in the way`, 'path');
    }
    throw err;
  }
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    try {
      write(fd);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  fsyncDir(dir);
}

/** lstat of `path`, undefined when nothing is there (also when a file stands where a folder of the path is). */
function existingEntry(path: string): Stats | undefined {
  try {
    return lstatSync(path, { throwIfNoEntry: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** Writes all of `data` to `fd` (writeSync may write less than asked). */
export function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.byteLength) off += writeSync(fd, data, off, data.byteLength - off);
}

function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // Some platforms (Windows) cannot fsync a directory; the rename itself is still atomic there.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
