import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SAMPLE_DATA_FILE } from '../src/app/home.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'tradeforge.js');
const MASTER = randomBytes(32).toString('hex');
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** Runs the CLI under a permissive umask (022), as a default shell would. */
function cli(home: string, args: string[], input = '') {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = spawnSync('sh', ['-c', `umask 022; exec ${quoted}`], {
    env: { PATH: process.env.PATH ?? '', HOME: home, TRADEFORGE_HOME: home, TRADEFORGE_MASTER_KEY: MASTER },
    input,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function modes(root: string): { path: string; mode: string; dir: boolean }[] {
  const out: { path: string; mode: string; dir: boolean }[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p);
    out.push({ path: p, mode: (st.mode & 0o777).toString(8), dir: st.isDirectory() });
    if (st.isDirectory()) for (const n of readdirSync(p)) walk(join(p, n));
  };
  walk(root);
  return out;
}

describe('private files', () => {
  it('creates every folder 0700 and every file 0600 under a fresh home, whatever the umask', () => {
    const parent = mkdtempSync(join(tmpdir(), 'tf-files-'));
    roots.push(parent);
    const home = join(parent, 'home');
    const set = cli(home, ['secrets', 'set', 'venue.key'], 'k-secret-value-1');
    expect(set.code, set.err).toBe(0);
    const exp = cli(home, ['audit', 'export', '--out', join(home, 'exports', 'audit.jsonl')]);
    expect(exp.code, exp.err).toBe(0);
    const bt = cli(home, [
      'backtest',
      '--data',
      SAMPLE_DATA_FILE,
      '--strategy',
      'sma-cross',
      '--quiet',
      '--json',
      join(home, 'reports', 'run.json'),
      '--csv',
      join(home, 'reports', 'csv'),
    ]);
    expect(bt.code, bt.err).toBe(0);
    const all = modes(home);
    expect(all.some((m) => m.path.endsWith('tradeforge.db'))).toBe(true);
    expect(all.some((m) => m.path.endsWith('trades.csv'))).toBe(true);
    const loose = all.filter((m) => m.mode !== (m.dir ? '700' : '600'));
    expect(loose).toEqual([]);
  }, 300_000);

  it('tightens an existing home that others could read, with a notice', () => {
    const home = mkdtempSync(join(tmpdir(), 'tf-files-old-'));
    roots.push(home);
    chmodSync(home, 0o755);
    writeFileSync(join(home, 'notes.txt'), 'x', { mode: 0o644 });
    chmodSync(join(home, 'notes.txt'), 0o644);
    // Any command opening the home tightens it; `audit verify` on a fresh home says the chain is empty (exit 2).
    const r = cli(home, ['audit', 'verify', '--hash-only']);
    expect(r.code, r.err).toBe(2);
    expect(r.out).toMatch(/audit chain EMPTY: 0 records/);
    expect(r.err).toMatch(/notice: made 2 path\(s\) under .* private \(folders 0700, files 0600\)/);
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, 'notes.txt')).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'tradeforge.db')).mode & 0o777).toBe(0o600);
  }, 300_000);
});
