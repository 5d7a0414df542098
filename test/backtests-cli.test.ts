import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './fixtures/cli.js';

const home = mkdtempSync(join(tmpdir(), 'tf-bts-cli-'));
const SAMPLE = join(import.meta.dirname, '..', 'data', 'sample', 'sp500_2000.csv');
afterAll(() => rmSync(home, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args, { home, guardMs: 120_000 });

const storedId = (out: string): string => {
  const m = /stored as (bt-[0-9a-f]{10})/.exec(out);
  if (!m) throw new Error(`no stored id in: ${out}`);
  return m[1];
};

describe('tradeforge backtests (stored runs)', () => {
  it('stores every backtest, lists, shows and compares them', { timeout: 300_000 }, () => {
    const json = join(home, 'a.json');
    const a = cli('backtest', '--data', SAMPLE, '--strategy', 'sma-cross', '--lot', '1', '--quiet', '--json', json);
    expect(a.err).toBe('');
    expect(a.code).toBe(0);
    expect(a.out).toContain(`wrote ${json}`);
    const idA = storedId(a.out);
    const b = cli(
      'backtest',
      '--data',
      SAMPLE,
      '--strategy',
      'sma-cross',
      '--param',
      'fast=5',
      '--lot',
      '1',
      '--quiet',
    );
    expect(b.code).toBe(0);
    const idB = storedId(b.out);
    expect(idB).not.toBe(idA);

    const list = cli('backtests', 'list');
    expect(list.code).toBe(0);
    const lines = list.out.trim().split('\n');
    expect(lines[1]).toContain(idB); // newest first
    expect(lines[2]).toContain(idA);

    const show = cli('backtests', 'show', idA, '--json');
    expect(show.code).toBe(0);
    const rec = JSON.parse(show.out) as {
      fingerprint: string;
      config: { dataHash: string; data: string; params: { fast: number } };
      metrics: { finalEquity: number };
      artefacts: Record<string, string>;
    };
    const full = JSON.parse(readFileSync(json, 'utf8')) as { fingerprint: string; metrics: { finalEquity: number } };
    expect(rec.fingerprint).toBe(full.fingerprint);
    expect(rec.metrics.finalEquity).toBe(full.metrics.finalEquity);
    expect(rec.config.data).toBe(SAMPLE);
    expect(rec.config.params.fast).toBe(10);
    expect(rec.config.dataHash).toMatch(/^[0-9a-f]{64}$/);
    expect(rec.artefacts.json).toBe(json);
    expect(existsSync(rec.artefacts.result)).toBe(true);
    const recB = JSON.parse(cli('backtests', 'show', idB, '--json').out) as typeof rec;
    expect(recB.config.dataHash).toBe(rec.config.dataHash);

    const cmp = cli('backtests', 'compare', idA, idB, '--json');
    expect(cmp.code).toBe(0);
    const c = JSON.parse(cmp.out) as {
      metrics: { name: string; a: number; b: number; diff: number }[];
      equity: { time: number; a: number; b: number }[];
      sameResult: boolean;
    };
    const fe = c.metrics.find((m) => m.name === 'finalEquity');
    expect(fe?.a).toBe(full.metrics.finalEquity);
    expect(fe?.b).toBe(recB.metrics.finalEquity);
    expect(c.equity.at(-1)).toMatchObject({ a: full.metrics.finalEquity, b: recB.metrics.finalEquity });
    expect(c.sameResult).toBe(false);
    const text = cli('backtests', 'compare', idA, idB);
    expect(text.out).toMatch(/^metric\s+bt-/);
    expect(text.out).toContain('fingerprints differ');
  });

  it('--no-store leaves the store alone; an unknown id is a one-line error', { timeout: 300_000 }, () => {
    const before = cli('backtests', 'list', '--json');
    const n = (JSON.parse(before.out) as unknown[]).length;
    const r = cli('backtest', '--data', SAMPLE, '--strategy', 'sma-cross', '--lot', '1', '--quiet', '--no-store');
    expect(r.code).toBe(0);
    expect(r.out).not.toContain('stored as');
    expect((JSON.parse(cli('backtests', 'list', '--json').out) as unknown[]).length).toBe(n);
    const bad = cli('backtests', 'show', 'bt-0000000000');
    expect(bad.code).toBe(2);
    expect(bad.err.trim().split('\n')).toHaveLength(1);
    expect(bad.err).toContain('bt-0000000000');
  });
});
