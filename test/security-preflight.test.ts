import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../src/app/home.js';
import { resolveConfig } from '../src/core/config.js';
import { type PreflightCheck, Redactor, runPreflight, Vault } from '../src/security/index.js';
import { openStore } from '../src/store/index.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'tradeforge.js');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tmp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}

function gitRepo(): string {
  const repo = tmp('tf-preflight-repo-');
  spawnSync('git', ['init', '-q'], { cwd: repo });
  writeFileSync(join(repo, '.gitignore'), 'node_modules/\n.env\n');
  writeFileSync(join(repo, 'strategy.ts'), 'export const fast = 5;\n');
  return repo;
}

const GOOD_CONFIG = {
  risk: { breakers: { dailyLoss: 0.03, maxDrawdown: 0.2 } },
  alerts: { telegram: { chatIds: [1] } },
  venues: [
    { id: 'bin', type: 'ccxt', exchange: 'binance', secrets: { apiKey: 'binance.key', secret: 'binance.secret' } },
  ],
};

const byId = (checks: PreflightCheck[]) => Object.fromEntries(checks.map((c) => [c.id, c]));

describe('preflight', () => {
  it('passes a clean setup and fails each kind of problem, naming where', async () => {
    const repo = gitRepo();
    const homeDir = tmp('tf-preflight-home-');
    const home = resolveHome({}, homeDir);
    const store = await openStore({ home });
    const vault = await Vault.create(store, { masterKey: randomBytes(32) }, { redactor: new Redactor() });
    const vaultValue = `binance-${randomBytes(12).toString('hex')}`;
    await vault.set('binance.secret', vaultValue);
    await store.audit.append({ actor: 't', action: 'x', subject: 'y' });
    const config = resolveConfig(GOOD_CONFIG);
    const base = { home, config, cwd: repo, vaultValues: [vaultValue], audit: store.audit, auditKey: vault.auditKey() };

    const clean = byId(await runPreflight(base));
    for (const id of [
      'repo-secrets',
      'env-ignored',
      'home-secrets',
      'config-secrets',
      'logs-clean',
      'breakers',
      'alerts',
      'audit-chain',
    ]) {
      expect(clean[id].status, `${id}: ${clean[id].detail}`).toBe('pass');
    }

    // Problems, one of each kind.
    writeFileSync(join(repo, 'keys.ts'), `const k = 'AKIA${'ABCDEFGHIJKLMNOP'}';\nconst v = '${vaultValue}';\n`);
    writeFileSync(join(repo, '.gitignore'), 'node_modules/\n');
    mkdirSync(home.logs, { recursive: true });
    writeFileSync(join(home.logs, 'tradeforge.log'), `{"msg":"signing with ${vaultValue}"}\n`);
    writeFileSync(join(homeDir, 'notes.txt'), '-----BEGIN OPENSSH PRIVATE KEY-----\n');
    const badConfig = resolveConfig({ venues: [{ id: 'x', type: 'ccxt', options: { apiKey: vaultValue } }] });
    const bad = byId(await runPreflight({ ...base, config: badConfig }));
    expect(bad['repo-secrets'].status).toBe('fail');
    expect(bad['repo-secrets'].detail).toContain('keys.ts:1 (AWS access key)');
    expect(bad['repo-secrets'].detail).toContain('keys.ts:2 (a value stored in the vault)');
    expect(bad['repo-secrets'].detail).not.toContain(vaultValue);
    expect(bad['env-ignored'].status).toBe('fail');
    expect(bad['logs-clean']).toMatchObject({ status: 'fail' });
    expect(bad['logs-clean'].detail).toContain('tradeforge.log:1');
    expect(bad['home-secrets'].detail).toContain('notes.txt:1 (private key)');
    expect(bad['config-secrets'].status).toBe('fail');
    expect(bad.breakers.status).toBe('fail');
    expect(bad.alerts.status).toBe('fail');
    await store.close();
  });

  it('prints a checklist and exits non-zero on failure (CLI)', async () => {
    const repo = gitRepo();
    const homeDir = tmp('tf-preflight-cli-');
    const configFile = join(repo, 'tradeforge.json');
    writeFileSync(configFile, JSON.stringify(GOOD_CONFIG));
    const run = (extraEnv: Record<string, string> = {}) =>
      spawnSync(process.execPath, [BIN, 'preflight', '--config', configFile], {
        cwd: repo,
        env: { PATH: process.env.PATH ?? '', HOME: homeDir, TRADEFORGE_HOME: homeDir, ...extraEnv },
        encoding: 'utf8',
        timeout: 180_000,
      });
    const ok = run();
    expect(ok.status, ok.stdout + ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/\[PASS\] circuit breakers configured/);
    expect(ok.stdout).toMatch(/preflight passed/);
    writeFileSync(configFile, JSON.stringify({ ...GOOD_CONFIG, risk: {} }));
    const fail = run();
    expect(fail.status).toBe(1);
    expect(fail.stdout).toMatch(/\[FAIL\] circuit breakers configured/);
    expect(fail.stdout).toMatch(/preflight FAILED: 1 check/);
  });
});
