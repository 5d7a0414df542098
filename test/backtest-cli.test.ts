import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './fixtures/cli.js';

const home = mkdtempSync(join(tmpdir(), 'tf-bt-cli-'));
const SAMPLE = join(import.meta.dirname, '..', 'data', 'sample', 'sp500_2000.csv');
afterAll(() => rmSync(home, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(['backtest', ...args], { home });

describe('tradeforge backtest', () => {
  it('runs sma-cross on the bundled data, prints a summary and writes the JSON result', () => {
    const json = join(home, 'out.json');
    const r = cli(
      '--data',
      SAMPLE,
      '--strategy',
      'sma-cross',
      '--stake',
      '95%',
      '--lot',
      '1',
      '--fee',
      '0.001',
      '--json',
      json,
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/fingerprint\s+[0-9a-f]{64}/);
    const out = JSON.parse(readFileSync(json, 'utf8'));
    expect(out.trades[0]).toMatchObject({ side: 'long', quantity: 65, exitReason: 'exit_signal' });
    expect(out.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(out.timing.bars).toBe(5105);
  });

  it('a config file with exits and a date window; flags override it', () => {
    const cfg = join(home, 'bt.yaml');
    writeFileSync(
      cfg,
      'strategy: sma-cross\nparams: {fast: 5, slow: 20}\nfrom: "2008-01-01"\nto: "2009-12-31"\nlot: 1\nexits:\n  stopLoss: 0.03\n',
    );
    const json = join(home, 'cfg.json');
    const r = cli('--data', SAMPLE, '--config', cfg, '--param', 'fast=8', '--json', json, '--quiet');
    expect(r.code).toBe(0);
    const out = JSON.parse(readFileSync(json, 'utf8'));
    expect(out.trades.some((t: { exitReason: string }) => t.exitReason === 'stop_loss')).toBe(true);
    expect(out.trades.every((t: { entryTime: number }) => t.entryTime >= Date.UTC(2008, 0, 1))).toBe(true);
    expect(JSON.stringify(out)).toContain('"fast":8');
  });

  it.each([
    [['--strategy', 'nope'], /unknown strategy "nope"/],
    [['--strategy', 'sma-cross', '--param', 'speed=3'], /no parameter "speed"/],
    [['--strategy', 'sma-cross', '--param', 'fast=0'], /below the minimum 1/],
    [['--strategy', 'signals'], /needs data column "enter_long"/],
    [['--strategy', 'sma-cross', '--stake', 'lots'], /stake must be like 95% or 1000/],
  ])('bad input %j gives one line and exit code 2', (args, message) => {
    const r = cli('--data', SAMPLE, ...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});
