import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './fixtures/cli.js';

const ROOT = join(import.meta.dirname, '..');
const SAMPLE = join(ROOT, 'data', 'sample', 'sp500_2000.csv');
const dir = mkdtempSync(join(tmpdir(), 'tf-strategy-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args, { home: join(dir, 'home'), cwd: dir, guardMs: 120_000 });

const fingerprint = (out: string) => /fingerprint\s+([0-9a-f]{64})/.exec(out)?.[1];

// Each case spawns the CLI (tsx start-up): generous budgets so a loaded machine does not fail them.
describe('strategy files', { timeout: 400_000 }, () => {
  it('`strategy new` writes a file that type-checks and backtests like the built-in sma-cross', () => {
    const made = cli('strategy', 'new', 'my-cross');
    expect(made.err).toBe('');
    expect(made.code).toBe(0);
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);

    const mine = cli('backtest', '--strategy', 'my-cross.ts', '--data', SAMPLE, '--lot', '1', '--param', 'fast=5');
    const builtin = cli('backtest', '--strategy', 'sma-cross', '--data', SAMPLE, '--lot', '1', '--param', 'fast=5');
    expect(mine.err).toBe('');
    expect(mine.code).toBe(0);
    expect(fingerprint(mine.out)).toBeDefined();
    expect(fingerprint(mine.out)).toBe(fingerprint(builtin.out));
    // --param reaches the file's declared inputs: another value gives other trades.
    const other = cli('backtest', '--strategy', 'my-cross.ts', '--data', SAMPLE, '--lot', '1', '--param', 'fast=8');
    expect(fingerprint(other.out)).not.toBe(fingerprint(mine.out));
  });

  it('--param names the file strategy and its parameters in errors', () => {
    const r = cli('backtest', '--strategy', 'my-cross.ts', '--data', SAMPLE, '--param', 'fats=5');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/strategy my-cross has no parameter "fats" \(known: fast, slow\)/);
    const v = cli('backtest', '--strategy', 'my-cross.ts', '--data', SAMPLE, '--param', 'fast=40');
    expect(v.code).toBe(2);
    expect(v.err).toMatch(/my-cross\.ts: fast \(40\) must be below slow \(30\)/);
  });

  it('optimize and check-warmup take the file too', () => {
    const opt = cli(
      'optimize',
      '--strategy',
      'my-cross.ts',
      '--data',
      SAMPLE,
      '--param',
      'fast=5,8',
      '--param',
      'slow=30',
      '--workers',
      '1',
      '--json',
      join(dir, 'opt.json'),
    );
    expect(opt.code).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, 'opt.json'), 'utf8'));
    expect(doc.evaluated).toBe(2);
    const builtin = cli('backtest', '--strategy', 'sma-cross', '--data', SAMPLE, '--param', 'fast=8');
    const trial = doc.ranked.find((t: { params: { fast: number } }) => t.params.fast === 8);
    expect(trial.fingerprint).toBe(fingerprint(builtin.out));

    const warm = cli('check-warmup', '--strategy', 'my-cross.ts', '--data', SAMPLE);
    expect(warm.err).toBe('');
    expect(warm.code).toBe(0);
    expect(warm.out).toMatch(/^check-warmup my-cross on /);
  });

  it('`strategy check` prints each refusal with file, line, column and rule, and exits 1', () => {
    const file = join(dir, 'bad.ts');
    writeFileSync(
      file,
      "import { defineStrategy } from 'tradeforge/sdk';\nimport fs from 'node:fs';\nconst x = eval('1');\nexport default defineStrategy({ name: 'bad', description: '', params: [], create: () => ({}) });\n",
    );
    const r = cli('strategy', 'check', 'bad.ts');
    expect(r.code).toBe(1);
    expect(r.out).toContain('bad.ts:2:1 import-not-sdk: import of "node:fs"');
    expect(r.out).toContain('bad.ts:3:11 eval:');
    const bt = cli('backtest', '--strategy', 'bad.ts', '--data', SAMPLE);
    expect(bt.code).toBe(2);
    expect(bt.err).toMatch(/refused by the safety gate \(2 findings\)/);
    expect(bt.err).not.toMatch(/\n\s+at /);
    const ok = cli('strategy', 'check', 'my-cross.ts');
    expect(ok.out).toBe('my-cross.ts: ok, strategy my-cross (params fast=10 slow=30)\n');
  });

  it('a .rules file backtests with its params and exits; a typo shows line, caret and suggestion', () => {
    writeFileSync(
      join(dir, 'cross.rules'),
      'param fast = 10 in 5..30\nbuy when sma(fast) crosses above sma(30)\nsell when sma(fast) crosses below sma(30)\n',
    );
    const rules = cli('backtest', '--strategy', 'cross.rules', '--data', SAMPLE, '--lot', '1', '--param', 'fast=5');
    expect(rules.err).toBe('');
    const builtin = cli('backtest', '--strategy', 'sma-cross', '--data', SAMPLE, '--lot', '1', '--param', 'fast=5');
    expect(fingerprint(rules.out)).toBe(fingerprint(builtin.out));
    writeFileSync(join(dir, 'typo.rules'), 'buy when rsi(14) < 30\nsell when rsii(14) > 70\n');
    const typo = cli('backtest', '--strategy', 'typo.rules', '--data', SAMPLE);
    expect(typo.code).toBe(2);
    expect(typo.err).toBe(
      'error: typo.rules:2:11: unknown name "rsii" (did you mean "rsi"?)\n  sell when rsii(14) > 70\n            ^\n',
    );
  });

  it('a missing file or an unknown extension is a clear error', () => {
    expect(cli('backtest', '--strategy', 'nope.ts', '--data', SAMPLE).err).toMatch(/strategy file nope\.ts not found/);
    expect(cli('backtest', '--strategy', './x.py', '--data', SAMPLE).err).toMatch(/unknown strategy file type "\.py"/);
  });
});
