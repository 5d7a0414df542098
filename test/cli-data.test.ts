import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');
const SAMPLE = join(ROOT, 'data/sample/sp500_2000.csv');
const home = mkdtempSync(join(tmpdir(), 'tf-cli-data-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function run(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tradeforge.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, TRADEFORGE_HOME: home, TRADEFORGE_DEBUG: '' },
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function file(name: string, text: string): string {
  const p = join(home, name);
  writeFileSync(p, text);
  return p;
}

const storeFiles = (): string[] => (existsSync(join(home, 'data')) ? readdirSync(join(home, 'data')) : []);

describe('tradeforge data', () => {
  it('imports the sample, lists it, resamples it and exports it', () => {
    const imp = run('data', 'import', SAMPLE, '--symbol', 'SPX');
    expect(imp.err).toBe('');
    expect(imp.code).toBe(0);
    expect(imp.out).toMatch(/imported SPX 1d: 5105 rows, 2000-01-03 \.\. 2020-04-17/);
    expect(imp.out).toMatch(/row 428 {2}warning {2}gap/);
    expect(storeFiles()).toEqual(['SPX_1d.tfb']);

    const res = run('data', 'resample', '--symbol', 'SPX', '--from', '1d', '--to', '1w');
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/resampled SPX 1d -> 1w: 5105 -> \d+ bars/);

    const list = run('data', 'list');
    expect(list.code).toBe(0);
    expect(list.out.split('\n')[0]).toMatch(/^SYMBOL\s+TIMEFRAME\s+ROWS\s+FROM\s+TO\s+SIZE$/);
    expect(list.out).toMatch(/SPX\s+1d\s+5105\s+2000-01-03\s+2020-04-17/);
    expect(list.out).toMatch(/SPX\s+1w\s+1059\s+2000-01-03\s+2020-04-13/);

    const out = join(home, 'spx.csv');
    expect(run('data', 'export', '--symbol', 'SPX', '--timeframe', '1d', '--out', out).code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('time,open,high,low,close,volume');
    expect(lines[1]).toBe(readFileSync(SAMPLE, 'utf8').split('\n')[1]);
    expect(lines).toHaveLength(5106);
  });

  it('rejects bad CSVs with a one-line error naming row and column and writes nothing', () => {
    const cases: [string, string, RegExp][] = [
      [
        'missing.csv',
        'time,open,high,low\n2024-01-01,1,2,0.5\n',
        /missing\.csv, row 1, column close: missing column close/,
      ],
      [
        'text.csv',
        'time,open,high,low,close\n2024-01-01,1,2,0.5,1\n2024-01-02,1,oops,0.5,1\n',
        /text\.csv, row 3, column high: "oops" is not a number/,
      ],
      ['empty.csv', '', /empty\.csv: file is empty/],
      [
        'unsorted.csv',
        'time,open,high,low,close\n2024-01-02,1,2,0.5,1\n2024-01-01,1,2,0.5,1\n',
        /unsorted\.csv, row 3, column time: out-of-order/,
      ],
    ];
    for (const [name, text, re] of cases) {
      const r = run('data', 'import', file(name, text), '--symbol', `BAD${name.length}`, '--timeframe', '1d');
      expect(r.code, name).toBe(2);
      expect(r.err, name).toMatch(re);
      expect(r.err.trim().split('\n'), name).toHaveLength(1);
      expect(r.err, name).not.toMatch(/at .*\.ts:\d+/);
    }
    expect(storeFiles().filter((f) => f.startsWith('BAD') || f.endsWith('.tmp'))).toEqual([]);
  });

  it('imports with --policy drop and reports what it dropped', () => {
    const f = file(
      'fixable.csv',
      'time,open,high,low,close\n2024-01-01,1,2,0.5,1\n2024-01-02,1,0.1,0.5,1\n2024-01-03,1,2,0.5,1\n',
    );
    const r = run('data', 'import', f, '--symbol', 'FIX', '--policy', 'drop');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/imported FIX 1d: 2 rows/);
    expect(r.out).toMatch(/row 3 {2}error {2}high-below-low/);
  });

  it('validate exits 0 clean, 1 with issues (JSON report with rows), 2 unreadable', () => {
    const clean = file('clean.csv', 'time,open,high,low,close\n2024-01-01,1,2,0.5,1\n2024-01-02,1,2,0.5,1\n');
    const ok = run('data', 'validate', clean);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/clean: no issues found/);

    const bad = file(
      'issues.csv',
      'time,open,high,low,close\n2024-01-01,1,2,0.5,1\n2024-01-01,1,2,0.5,1\n2024-01-02,-1,2,0.5,1\n',
    );
    const r = run('data', 'validate', bad, '--json', '--policy', 'drop');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as { issues: { row: number; kind: string }[]; policyResult: { rows: number } };
    expect(report.issues.map((i) => [i.row, i.kind])).toEqual([
      [3, 'duplicate'],
      [4, 'non-positive'],
    ]);
    expect(report.policyResult.rows).toBe(1);

    const missing = run('data', 'validate', join(home, 'nope.csv'));
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/nope\.csv: file not found/);
  });

  it('generate writes seeded CSV and JSON that import back identically', () => {
    const a = join(home, 'g1.csv');
    const b = join(home, 'g2.csv');
    const j = join(home, 'g.json');
    expect(run('data', 'generate', '--bars', '500', '--seed', '5', '--out', a).code).toBe(0);
    expect(run('data', 'generate', '--bars', '500', '--seed', '5', '--out', b, '--start', '2021-06-01').code).toBe(0);
    const g = run('data', 'generate', '--bars', '500', '--seed', '5', '--out', j, '--timeframe', '1h');
    expect(g.out).toMatch(/wrote 500 1h bars/);
    const ca = readFileSync(a, 'utf8').split('\n');
    const cb = readFileSync(b, 'utf8').split('\n');
    expect(ca).toHaveLength(502);
    expect(ca[1].split(',').slice(1)).toEqual(cb[1].split(',').slice(1));
    expect(cb[1].startsWith('2021-06-01T00:00:00Z,')).toBe(true);
    const json = JSON.parse(readFileSync(j, 'utf8')) as { time: string; close: number }[];
    expect(json).toHaveLength(500);
    expect(json[1].time).toBe('2020-01-01T01:00:00Z');
    const v = run('data', 'validate', j);
    expect(v.out).toMatch(/500 rows, 1h/);
  });

  it('exits quietly when the reader closes the pipe early (`tradeforge data --help | head -1`)', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [join(ROOT, 'bin/tradeforge.js'), 'data', '--help'], {
      cwd: ROOT,
      env: { ...process.env, TRADEFORGE_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    // Close our end before the help is written, as `head` does once it has its line.
    child.stdout.destroy();
    const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    expect(err).not.toMatch(/EPIPE|Unhandled|at /);
    expect(code).toBe(0);
  });

  it('gives clear errors for bad flags and shows help', () => {
    const r = run('data', 'generate', '--bars', 'ten', '--seed', '1', '--out', join(home, 'x.csv'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/expected a positive integer, got "ten"/);
    const tf = run('data', 'import', SAMPLE, '--symbol', 'S', '--timeframe', '2h');
    expect(tf.code).toBe(2);
    expect(tf.err).toMatch(/unknown timeframe "2h"/);
    const pol = run('data', 'import', SAMPLE, '--symbol', 'S', '--policy', 'maybe');
    expect(pol.code).toBe(2);
    const down = run('data', 'resample', '--symbol', 'SPX', '--from', '1d', '--to', '1h');
    expect(down.err).toMatch(/cannot resample 1d down to 1h/);
    const help = run('data', 'validate', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Exit code: 0 clean, 1 issues found, 2 unreadable input/);
  });
});

describe('tradeforge demo', () => {
  it('summarises the sample data and lists commands with an empty home', () => {
    const empty = mkdtempSync(join(tmpdir(), 'tf-demo-'));
    try {
      const r = spawnSync(process.execPath, [join(ROOT, 'bin/tradeforge.js'), 'data', 'summary'], {
        cwd: tmpdir(),
        env: { ...process.env, TRADEFORGE_HOME: join(empty, 'home') },
        encoding: 'utf8',
        timeout: 180_000,
      });
      expect(r.status).toBe(0);
      expect(r.stdout).toMatch(/rows\s+5105 1d bars/);
      expect(r.stdout).toMatch(/range\s+2000-01-03 \.\. 2020-04-17/);
      expect(r.stdout).toMatch(/first close\s+1455\.219971/);
      expect(r.stdout).toMatch(/total return\s+97\.53%/);
      expect(r.stdout).toMatch(/0 errors, 3 warnings \(3 gap\)/);
      expect(r.stdout).toMatch(/tradeforge data import/);
      expect(r.stdout).toMatch(/tradeforge demo/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
  it('refuses long and non-ASCII-heavy symbols in one line (no ENAMETOOLONG), echoing at most 80 characters', () => {
    const ok = file(
      'sym.csv',
      'time,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,10\n2024-01-02,1,2,0.5,1.5,10\n',
    );
    for (const symbol of ['é'.repeat(60), '\u{1F680}'.repeat(30), 'X'.repeat(300)]) {
      const r = run('data', 'import', ok, '--symbol', symbol);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/^error: invalid symbol "/);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).not.toMatch(/ENAMETOOLONG|internal error/);
      expect(r.err.length).toBeLessThan(250);
    }
  });

  it('imports a 20 MB file of 5M columns with bounded memory: one-line error, peak memory under 100 MB above the start', () => {
    const wide = join(home, 'wide.csv');
    writeFileSync(wide, `${'c,'.repeat(5_000_000 - 1)}c\n`);
    const script = `
      const { importFile } = await import(${JSON.stringify(join(ROOT, 'src/data/import.ts'))});
      const before = process.memoryUsage().rss;
      let message = '';
      try { importFile(${JSON.stringify(wide)}); } catch (e) { message = e.message; }
      process.stdout.write(JSON.stringify({ before, peak: process.resourceUsage().maxRSS * 1024, message }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr).toBe('');
    const m = JSON.parse(r.stdout) as { before: number; peak: number; message: string };
    expect(m.message).toMatch(/wide\.csv, row 1: line is 9999999 characters long; the limit is 65536/);
    expect(m.peak - m.before).toBeLessThan(100 * 1024 * 1024);
  });
});
