import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './fixtures/cli.js';

const home = mkdtempSync(join(tmpdir(), 'tf-bt-risk-cli-'));
const SAMPLE = join(import.meta.dirname, '..', 'data', 'sample', 'sp500_2000.csv');
afterAll(() => rmSync(home, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(['backtest', ...args], { home });

const base = ['--data', SAMPLE, '--strategy', 'sma-cross', '--lot', '1', '--to', '2004-12-31', '--quiet'];

describe('tradeforge backtest with risk', () => {
  it('a "risk" section in --config applies its rules: rejections in --json riskEvents and in the HTML report', () => {
    const cfg = join(home, 'risk.json');
    writeFileSync(cfg, JSON.stringify({ risk: { maxOrderNotional: 50_000 } }));
    const json = join(home, 'risk-out.json');
    const html = join(home, 'risk-out.html');
    const r = cli(...base, '--config', cfg, '--json', json, '--html', html);
    // Only notices (the home's files made private) may reach stderr.
    expect(r.err.split('\n').filter((l) => l && !l.startsWith('notice:'))).toEqual([]);
    expect(r.code).toBe(0);
    const out = JSON.parse(readFileSync(json, 'utf8'));
    // A 95% stake of 100 000 is above the 50 000 cap: every entry is refused.
    expect(out.trades).toHaveLength(0);
    expect(out.riskEvents.length).toBeGreaterThan(5);
    for (const e of out.riskEvents) {
      expect(e).toMatchObject({ code: 'MAX_NOTIONAL' });
      expect(typeof e.time).toBe('number');
      expect(e.detail).toMatch(/sma-cross|notional|50000/i);
    }
    expect(out.config.risk).toEqual({ maxOrderNotional: 50_000 });
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('id="risk-events"');
    expect(page).toContain('MAX_NOTIONAL');
  });

  it('without a risk section nothing is refused; --risk-defaults applies the live defaults', () => {
    const plainJson = join(home, 'plain.json');
    expect(cli(...base, '--json', plainJson).code).toBe(0);
    const plain = JSON.parse(readFileSync(plainJson, 'utf8'));
    expect(plain.riskEvents).toEqual([]);
    expect(plain.trades.length).toBeGreaterThan(5);

    const defJson = join(home, 'defaults.json');
    const r = cli(...base, '--risk-defaults', '--json', defJson);
    // Only notices (the home's files made private) may reach stderr.
    expect(r.err.split('\n').filter((l) => l && !l.startsWith('notice:'))).toEqual([]);
    expect(r.code).toBe(0);
    const def = JSON.parse(readFileSync(defJson, 'utf8'));
    // The default concentration limit (50% of equity in one symbol) refuses a 95% stake.
    expect(def.riskEvents.some((e: { code: string }) => e.code === 'CONCENTRATION')).toBe(true);
    expect(def.trades).toHaveLength(0);
    expect(def.config.riskDefaults).toBe(true);
  });

  it('a bad risk key in the config is a one-line error naming it, exit code 2', () => {
    const cfg = join(home, 'bad.json');
    writeFileSync(cfg, JSON.stringify({ risk: { maxOrderNotionl: 5 } }));
    const r = cli(...base, '--config', cfg);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/risk/);
    expect(r.err).toMatch(/maxOrderNotionl/);
  });
});
