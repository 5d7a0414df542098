import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { strategyTemplate } from '../src/authoring/files/template.js';
import { runCli } from './fixtures/cli.js';

const home = mkdtempSync(join(tmpdir(), 'tf-strategy-versions-'));
const work = mkdtempSync(join(tmpdir(), 'tf-strategy-files-'));
const SAMPLE = join(import.meta.dirname, '..', 'data', 'sample', 'sp500_2000.csv');
afterAll(() => {
  rmSync(home, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

const cli = (...args: string[]) => runCli(args, { home, guardMs: 120_000 });

describe('tradeforge strategy import|list|show|versions|diff', { timeout: 900_000 }, () => {
  it('stores numbered versions, shows and diffs them, and a backtest runs a version by ID@vN', () => {
    const file = join(work, 'mine.ts');
    writeFileSync(file, strategyTemplate('mine'));
    const a = cli('strategy', 'import', file, '--note', 'first');
    expect(a.err).toBe('');
    expect(a.out).toMatch(/^stored mine@v1 \(ts, strategy mine, sha256 [0-9a-f]{16}, draft\)/);
    // The same source again adds nothing.
    expect(cli('strategy', 'import', file).out).toMatch(/^unchanged: mine@v1 already holds this source/);
    writeFileSync(file, strategyTemplate('mine').replace('default: 10, min: 1', 'default: 12, min: 1'));
    expect(cli('strategy', 'import', file).out).toMatch(/^stored mine@v2 /);

    const rules = join(work, 'cross.txt');
    writeFileSync(
      rules,
      'param fast = 10\nparam slow = 30\nbuy when sma(fast) crosses above sma(slow)\nsell when sma(fast) crosses below sma(slow)\n',
    );
    expect(cli('strategy', 'import', '--rules', rules, '--id', 'cross').out).toMatch(/^stored cross@v1 \(rules, /);

    const list = cli('strategy', 'list');
    expect(list.out).toMatch(/^cross\s+rules\s+draft\s+v1 /m);
    expect(list.out).toMatch(/^mine\s+ts\s+draft\s+v2 /m);
    const show = cli('strategy', 'show', 'mine@v1');
    expect(show.out).toContain('mine@v1  mine (ts, draft)');
    expect(show.out).toContain('note: first');
    expect(show.out).toContain('gate     passed');
    expect(show.out).toContain('default: 10, min: 1');
    const versions = cli('strategy', 'versions', 'mine');
    expect(
      versions.out
        .trim()
        .split('\n')
        .map((l) => l.split(' ')[0]),
    ).toEqual(['mine@v1', 'mine@v2']);
    const diff = cli('strategy', 'diff', 'mine', 'v1', '2');
    expect(diff.out).toContain('--- mine@v1');
    expect(diff.out).toMatch(/^-.*default: 10, min: 1/m);
    expect(diff.out).toMatch(/^\+.*default: 12, min: 1/m);

    // Backtests name a stored version; v1 (fast 10) trades like the built-in sma-cross with fast 10.
    const v1 = cli('backtest', '--data', SAMPLE, '--strategy', 'mine@v1', '--lot', '1', '--no-store');
    const builtIn = cli(
      'backtest',
      '--data',
      SAMPLE,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=10',
      '--param',
      'slow=30',
      '--lot',
      '1',
      '--no-store',
    );
    expect(v1.err).toBe('');
    const fp = (out: string) => /fingerprint\s+([0-9a-f]{8,})/.exec(out)?.[1];
    expect(fp(v1.out)).toBeDefined();
    expect(fp(v1.out)).toBe(fp(builtIn.out));
    // The optimiser's worker threads compile the stored version too (hash-checked) and run its own validation.
    const opt = cli(
      'optimize',
      '--data',
      SAMPLE,
      '--strategy',
      'mine@v1',
      '--param',
      'fast=10..30:10',
      '--param',
      'slow=20',
      '--workers',
      '1',
      '--lot',
      '1',
    );
    expect(opt.err).not.toMatch(/internal error/);
    expect(opt.code).toBe(0);
    expect(opt.out).toMatch(/3 trials \(grid\) on 1 workers?/);
    // fast 20 and 30 are not below slow 20: skipped by the version's validate.
    expect(opt.out).toMatch(/1 evaluated, 2 skipped, 0 failed/);
    const missing = cli('backtest', '--data', SAMPLE, '--strategy', 'mine@v7', '--no-store');
    expect(missing.code).not.toBe(0);
    expect(missing.err).toContain('no stored strategy version mine@v7');
  });

  it('refuses a file the gate rejects, naming rule and line, and stores nothing', () => {
    const bad = join(work, 'bad.ts');
    writeFileSync(bad, "import fs from 'node:fs';\nexport default {};\n");
    const r = cli('strategy', 'import', bad, '--id', 'bad');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/bad\.ts:1:1 import-not-sdk/);
    expect(r.err).not.toMatch(/\n\s+at /);
    expect(cli('strategy', 'versions', 'bad').err).toContain('no stored strategy bad');
  });
});
