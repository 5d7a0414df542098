import { spawnSync } from 'node:child_process';
import {
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeAll, writeFileAtomic } from './atomic-file.js';

const dir = mkdtempSync(join(tmpdir(), 'tf-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const write = (path: string, text: string) => writeFileAtomic(path, (fd) => writeAll(fd, Buffer.from(text)));

describe('writeFileAtomic', () => {
  it('replaces a regular file', () => {
    const p = join(dir, 'plain.txt');
    write(p, 'one');
    write(p, 'two');
    expect(readFileSync(p, 'utf8')).toBe('two');
  });

  it('never replaces a symlink, a pipe (as a device would be) or a directory, and leaves no temp file', () => {
    writeFileSync(join(dir, 'target'), 'keep');
    symlinkSync(join(dir, 'target'), join(dir, 'link'));
    expect(spawnSync('mkfifo', [join(dir, 'pipe')]).status).toBe(0);
    mkdirSync(join(dir, 'folder'));
    expect(() => write(join(dir, 'link'), 'x')).toThrow(/link: is a symbolic link; refusing to replace it/);
    expect(() => write(join(dir, 'pipe'), 'x')).toThrow(/pipe: is not a regular file; refusing to replace it/);
    expect(() => write(join(dir, 'folder'), 'x')).toThrow(/folder: is a directory; refusing to replace it/);
    expect(lstatSync(join(dir, 'link')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(dir, 'pipe')).isFIFO()).toBe(true);
    expect(readFileSync(join(dir, 'target'), 'utf8')).toBe('keep');
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('says which folder cannot be made when a file is in the way', () => {
    writeFileSync(join(dir, 'a-file'), 'x');
    expect(() => write(join(dir, 'a-file', 'sub', 'out.json'), 'x')).toThrow(
      /cannot create the folder .*a-file.*a file is in the way/,
    );
  });
});
