import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'tf-riskreport-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/tradeforge.js', 'risk', 'report', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TRADEFORGE_HOME: dir },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

// 121 daily closes → 120 returns; a deterministic wiggle so the tail is not trivial.
const n = 121;
const closes = Array.from({ length: n }, (_, i) => 100 + 5 * Math.sin(i * 0.7) + i * 0.05);
const day = (i: number) => new Date(Date.UTC(2025, 0, 1 + i)).toISOString();
const bars = join(dir, 'AAA.csv');
writeFileSync(
  bars,
  `time,open,high,low,close,volume\n${closes.map((c, i) => `${day(i)},${c},${c + 1},${c - 1},${c},1000`).join('\n')}\n`,
);
const positions = join(dir, 'positions.json');
writeFileSync(positions, JSON.stringify([{ symbol: 'AAA', quantity: 300, strategy: 'trend', venue: 'sim' }]));

// Each case spawns the CLI (tsx start-up); a loaded 2-core box needs room.
describe('tradeforge risk report', { timeout: 180_000 }, () => {
  it('JSON: historical VaR is the empirical quantile of the replayed P&L; stress P&L by hand', () => {
    const r = run('--positions', positions, '--history', `AAA=${bars}`, '--equity', '100000', '--format', 'json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    const value = 300 * closes[n - 1];
    const pnl = closes.slice(1).map((c, i) => value * (c / closes[i] - 1));
    const sorted = [...pnl].sort((a, b) => a - b);
    const h95 = report.var.find(
      (v: { method: string; confidence: number; horizonDays: number }) =>
        v.method === 'historical' && v.confidence === 0.95 && v.horizonDays === 1,
    );
    expect(h95.observations).toBe(120);
    expect(h95.var).toBeCloseTo(-sorted[5], 6); // k = ⌈120 × 0.05⌉ = 6 → the 6th worst
    expect(report.exposure.byStrategy[0]).toMatchObject({ key: 'trend', gross: value });
    const gfc = report.stress.find((s: { scenario: string }) => s.scenario === '2008-10');
    expect(gfc.pnl).toBeCloseTo(value * -0.169, 6); // AAA is an equity: the class figure
  });

  it('HTML to a file, with user scenarios added to the built-in ones', () => {
    const scen = join(dir, 'scen.json');
    writeFileSync(scen, JSON.stringify([{ name: 'flash', description: 'a 7% drop', shocks: { default: -0.07 } }]));
    const out = join(dir, 'report.html');
    const r = run(
      '--positions',
      positions,
      '--history',
      `AAA=${bars}`,
      '--scenarios',
      scen,
      '--format',
      'html',
      '--out',
      out,
    );
    expect(r.code).toBe(0);
    const html = readFileSync(out, 'utf8');
    expect(html).toContain('<h2>Value at risk and expected shortfall</h2>');
    expect(html).toContain('<td>flash</td>');
    expect(html).toContain('<td>2020-03</td>');
  });

  it('text by default; bad input is named without a stack trace', () => {
    const r = run('--positions', positions, '--history', `AAA=${bars}`);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/parametric\s+99%\s+10/);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'symbol,quantity\nAAA,abc\n');
    const e = run('--positions', bad, '--history', `AAA=${bars}`);
    expect(e.code).toBe(2);
    expect(e.err).toMatch(/bad\.csv, row 2, column quantity/);
    const f = run('--positions', positions, '--history', `AAA=${bars}`, '--format', 'pdf');
    expect(f.code).toBe(2);
    expect(f.err).toMatch(/--format must be text, json or html, got "pdf"/);
  });

  it('without --positions: the store’s positions (none in a fresh home) give an empty report, not an error', () => {
    const r = run('--format', 'json');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report.positions).toEqual([]);
    expect(report.var).toEqual([]);
    expect(report.stress.map((s: { pnl: number }) => s.pnl)).toEqual([0, 0, 0, 0]);
  });
});
