import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './fixtures/cli.js';

// `tradeforge backtest --strategy FILE` runs a code file in a sandbox worker: a file stuck in a loop or allocating
// without end is stopped with a one-line error instead of hanging the command or taking it down.
const ROOT = join(import.meta.dirname, '..');
const SAMPLE = join(ROOT, 'data', 'sample', 'sp500_2000.csv');
const dir = mkdtempSync(join(tmpdir(), 'tf-sandbox-backtest-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// A hang guard only (the loop below would otherwise never end); nothing depends on how fast it is.
const cli = (...args: string[]) => runCli(args, { home: join(dir, 'home'), cwd: dir });

const fingerprint = (out: string) => /fingerprint\s+([0-9a-f]{64})/.exec(out)?.[1];

function strategyFile(name: string, onBar: string): string {
  const file = join(dir, `${name}.ts`);
  writeFileSync(
    file,
    `import { defineStrategy, type StrategyContext } from 'tradeforge/sdk';
export default defineStrategy({
  name: '${name}',
  description: 'misbehaves in onBar',
  params: [],
  create() {
    const keep: number[][] = [];
    return {
      onBar(ctx: StrategyContext) {
        ${onBar}
        if (keep.length < 0) ctx.buy();
      },
    };
  },
});
`,
  );
  return file;
}

describe('backtest --strategy FILE in the sandbox worker', { timeout: 400_000 }, () => {
  it('an endless loop in onBar at bar 50 ends the command with one line naming file, strategy, callback and bar', () => {
    strategyFile('loop', 'if (ctx.bar.index === 50) { let n = 0; while (n >= 0) n++; }');
    const json = join(dir, 'loop.json');
    const r = cli('backtest', '--strategy', 'loop.ts', '--data', SAMPLE, '--json', json, '--no-store');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^error: loop\.ts: strategy loop ran past its CPU budget of 1000 ms in onBar at bar 50 \(\d{4}-\d\d-\d\dT[^)]+\); the sandbox stopped it\n$/,
    );
    expect(r.out).toBe('');
    expect(existsSync(json)).toBe(false);
  });

  it('a stored version of a looping file (ID@vN) is stopped the same way', () => {
    const imported = cli('strategy', 'import', 'loop.ts');
    expect(imported.out).toMatch(/^stored loop@v1 \(ts, /);
    const r = cli('backtest', '--strategy', 'loop@v1', '--data', SAMPLE, '--no-store');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^error: loop@v1\.ts: strategy loop ran past its CPU budget of 1000 ms in onBar at bar 50 /);
  });

  it('a file allocating without end (each allocation within the single-allocation bound) is stopped', () => {
    strategyFile('bomb', 'if (ctx.bar.index >= 20) keep.push(new Array(500000).fill(ctx.bar.close));');
    const r = cli('backtest', '--strategy', 'bomb.ts', '--data', SAMPLE, '--no-store');
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^error: bomb\.ts: strategy bomb ran past its memory cap of \d+ MB in onBar at bar \d+ .*the sandbox stopped it\n$/,
    );
  });

  it('a well-behaved file gives the fingerprint of the built-in sma-cross', () => {
    const made = cli('strategy', 'new', 'mine');
    expect(made.code, made.err).toBe(0);
    const mine = cli(
      'backtest',
      '--strategy',
      'mine.ts',
      '--data',
      SAMPLE,
      '--lot',
      '1',
      '--param',
      'fast=5',
      '--no-store',
    );
    expect(mine.code, mine.err).toBe(0);
    const builtin = cli(
      'backtest',
      '--strategy',
      'sma-cross',
      '--data',
      SAMPLE,
      '--lot',
      '1',
      '--param',
      'fast=5',
      '--no-store',
    );
    expect(fingerprint(mine.out)).toBeDefined();
    expect(fingerprint(mine.out)).toBe(fingerprint(builtin.out));
  });

  it('a bad parameter of a file is a usage error (exit 2), as before', () => {
    const r = cli('backtest', '--strategy', 'mine.ts', '--data', SAMPLE, '--param', 'fast=40', '--no-store');
    expect(r.code).toBe(2);
    expect(r.err).toContain('fast (40) must be below slow (30)');
  });
});
