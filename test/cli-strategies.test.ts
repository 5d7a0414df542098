import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listStrategies } from '../src/strategy/registry.js';

const ROOT = resolve(import.meta.dirname, '..');
const home = mkdtempSync(join(tmpdir(), 'tf-cli-strategies-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/tradeforge.js'), ...args], {
    cwd: ROOT,
    env: { ...process.env, TRADEFORGE_HOME: home },
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('tradeforge strategies (the list `backtest --help` points to)', () => {
  it('lists every built-in with each parameter, its default and range, as text and as JSON', () => {
    const text = run('strategies');
    expect(text.code, text.err).toBe(0);
    for (const d of listStrategies()) {
      expect(text.out).toContain(`${d.name}: ${d.description}`);
      for (const p of d.params) expect(text.out).toContain(`    ${p.name}=${String(p.default)} (${p.type}`);
    }
    expect(text.out).toMatch(/^ {4}fast=10 \(int, 1\.\.\d+ step 1\): /m);
    const json = run('strategies', '--json');
    expect(json.code, json.err).toBe(0);
    const rows = JSON.parse(json.out) as { name: string; params: { name: string; default: unknown }[] }[];
    expect(rows.map((r) => r.name)).toEqual(listStrategies().map((d) => d.name));
    const sma = rows.find((r) => r.name === 'sma-cross');
    expect(sma?.params.map((p) => p.name)).toEqual(expect.arrayContaining(['fast', 'slow']));
    // The help that names this command is true.
    expect(run('backtest', '--help').out).toContain('tradeforge strategies');
  });
});
