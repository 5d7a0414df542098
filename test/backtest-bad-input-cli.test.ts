import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './fixtures/cli.js';

// Bad input as a new user types it (issue #11 item 9): each is refused with a one-line error, exit code 2, and
// nothing is written or replaced.
const home = mkdtempSync(join(tmpdir(), 'tf-bad-input-'));
const out = join(home, 'out');
const SAMPLE = join(import.meta.dirname, '..', 'data', 'sample', 'sp500_2000.csv');
afterAll(() => rmSync(home, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args, { home, guardMs: 120_000 });

/** The refusal a user sees: exit 2 and exactly one line on stderr, `error: ...`, no stack trace. */
function expectOneLineError(r: { code: number | null; err: string }, pattern: RegExp): void {
  expect(r.code, r.err).toBe(2);
  const lines = r.err.trimEnd().split('\n');
  expect(lines, r.err).toHaveLength(1);
  expect(lines[0]).toMatch(/^error: /);
  expect(lines[0]).toMatch(pattern);
}

const listing = () => readdirSync(out).sort();

// Each case starts the CLI (a few seconds each on a loaded machine): generous per-test limits, no sleeps.
describe('bad input is refused with one line and nothing written', { timeout: 600_000 }, () => {
  beforeAll(() => {
    mkdirSync(join(out, 'a-folder'), { recursive: true });
    writeFileSync(join(out, 'a-file'), 'keep me');
    symlinkSync(join(out, 'a-file'), join(out, 'a-link'));
    // A named pipe stands in for a device: the same "not a regular file", harmless if ever replaced.
    expect(spawnSync('mkfifo', [join(out, 'a-pipe')]).status).toBe(0);
  });

  const backtest = (...extra: string[]) =>
    cli('backtest', '--data', SAMPLE, '--strategy', 'sma-cross', '--no-store', '--quiet', ...extra);

  it('an output path that is a directory, a file where a folder is needed, a symlink or a device', () => {
    const before = listing();
    expectOneLineError(backtest('--json', join(out, 'a-folder')), /--json .*a-folder: is a directory/);
    expectOneLineError(backtest('--csv', join(out, 'a-file')), /--csv .*a-file: is a file, not a folder/);
    expectOneLineError(backtest('--html', join(out, 'a-link')), /--html .*a-link: is a symbolic link/);
    expectOneLineError(backtest('--json', join(out, 'a-pipe')), /--json .*a-pipe: is a named pipe/);
    expectOneLineError(backtest('--json', join(out, 'a-file', 'run.json')), /a-file is a file, not a folder/);
    expectOneLineError(backtest('--csv', join(out, 'a-file', 'csv')), /a-file is a file, not a folder/);
    expectOneLineError(
      cli(
        'optimize',
        '--data',
        SAMPLE,
        '--strategy',
        'sma-cross',
        '--param',
        'fast=5..10:5',
        '--json',
        join(out, 'a-link'),
      ),
      /--json .*a-link: is a symbolic link/,
    );
    // Nothing written, nothing replaced: the link is still a link, the file keeps its content.
    expect(listing()).toEqual(before);
    expect(lstatSync(join(out, 'a-link')).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(out, 'a-pipe')).isFIFO()).toBe(true);
    expect(readFileSync(join(out, 'a-file'), 'utf8')).toBe('keep me');
    expect(readdirSync(join(out, 'a-folder'))).toEqual([]);
  });

  it('daily data imported with --timeframe 1h is refused; the store stays empty', () => {
    const r = cli('data', 'import', SAMPLE, '--symbol', 'SPXH', '--timeframe', '1h');
    expectOneLineError(r, /--timeframe 1h contradicts the timestamps of .*sp500_2000\.csv: its bars are 1d apart/);
    expect(r.err).toMatch(/pass --timeframe 1d or leave it out/);
    expect(existsSync(join(home, 'data', 'SPXH_1h.tfb'))).toBe(false);
  });

  it('backtest on a file with bad rows points to a flag that exists (data import --policy), not its own', () => {
    const lines = readFileSync(SAMPLE, 'utf8').split('\n').slice(0, 40);
    const cells = lines[10].split(',');
    [cells[2], cells[3]] = [cells[3], cells[2]]; // high below low
    lines[10] = cells.join(',');
    const bad = join(home, 'bad.csv');
    writeFileSync(bad, `${lines.join('\n')}\n`);
    const r = cli('backtest', '--data', bad, '--strategy', 'sma-cross', '--param', 'fast=2', '--param', 'slow=5');
    expectOneLineError(r, /row 11, column high: high-below-low/);
    expect(r.err).toContain('`tradeforge data import --policy drop|ffill`');
    expect(r.err).not.toMatch(/use --policy/);
    expect(cli('backtest', '--help').out).not.toContain('--policy');
  });

  it('optimize with no valid point exits 2, writes no JSON and stores nothing', () => {
    const json = join(home, 'opt.json');
    const r = cli(
      'optimize',
      '--data',
      SAMPLE,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=50..60:5',
      '--param',
      'slow=10..20:5',
      '--workers',
      '1',
      '--json',
      json,
    );
    expect(r.code, r.err).toBe(2);
    // stderr carries the run's header line, then the one error line.
    const errors = r.err
      .trimEnd()
      .split('\n')
      .filter((l) => l.startsWith('error'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^error: no valid parameter combination: 9 skipped, 0 failed of 9 \(e\.g\. .*fast \(50\) must be below slow/,
    );
    expect(existsSync(json)).toBe(false);
    expect(r.out).not.toContain('stored as');
  });

  it('indicators --data SYMBOL reads a stored symbol, as backtest does', () => {
    expect(cli('data', 'import', SAMPLE, '--symbol', 'SPX').code).toBe(0);
    const r = cli('indicators', '--data', 'SPX', '--indicator', 'sma:3');
    expect(r.code, r.err).toBe(0);
    const rows = r.out.trimEnd().split('\n');
    expect(rows[0]).toBe('time,sma_3');
    expect(rows).toHaveLength(5106);
    const closes = readFileSync(SAMPLE, 'utf8')
      .split('\n')
      .slice(1, 4)
      .map((l) => Number(l.split(',')[4]));
    expect(Number(rows[3].split(',')[1])).toBeCloseTo((closes[0] + closes[1] + closes[2]) / 3, 9);
    expect(cli('indicators', '--data', 'SPX@1d', '--indicator', 'sma:3').out).toBe(r.out);
    expectOneLineError(
      cli('indicators', '--data', 'NOPE', '--indicator', 'sma:3'),
      /neither a file nor a stored symbol/,
    );
  });

  it('audit verify on a chain with no records says it is empty, with the count, and does not say OK', () => {
    const r = cli('audit', 'verify', '--hash-only');
    expect(r.out).toMatch(/^audit chain EMPTY: 0 records, nothing to verify/);
    expect(r.out).not.toContain('OK');
    expect(r.code).toBe(2);
  });
});
