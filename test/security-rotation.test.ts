import { type ChildProcessWithoutNullStreams, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { Redactor, Vault } from '../src/security/index.js';
import { openStore } from '../src/store/index.js';

const HOLDER = join(import.meta.dirname, 'fixtures', 'security', 'vault-holder.ts');
const BIN = join(import.meta.dirname, '..', 'bin', 'tradeforge.js');
const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

/** Sends a line to the holder and resolves with its next line of output. */
function ask(child: ChildProcessWithoutNullStreams, lines: AsyncIterator<string>, cmd: string): Promise<string> {
  child.stdin.write(`${cmd}\n`);
  return lines.next().then((r) => String(r.value));
}

describe('vault rotation while another process holds the vault', () => {
  it('never writes a secret under a retired key: the holder is refused and told to unlock again', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tf-rotate-'));
    homes.push(home);
    const master = randomBytes(32).toString('hex');
    const store = await openStore({ home });
    const vault = await Vault.create(store, { masterKey: master }, { redactor: new Redactor() });
    await vault.set('venue.key', 'original-value-1');

    const child = spawn(process.execPath, ['--import', 'tsx', HOLDER, home, master], { stdio: 'pipe' });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    try {
      expect((await lines.next()).value).toBe('ready');
      expect(await ask(child, lines, 'get')).toBe('ok');
      const r = await vault.rotate({ masterKey: master });
      expect(r.version).toBe(2);
      expect(await ask(child, lines, 'set')).toBe('VAULT_ROTATED');
      expect(await ask(child, lines, 'get')).toBe('VAULT_ROTATED');
      child.stdin.end();
    } finally {
      await new Promise((res) => child.once('exit', res));
    }
    const rows = await store.secrets.allRows();
    expect(rows.map((x) => Number(x.key_version))).toEqual([2]);
    const fresh = await Vault.unlock(store, { masterKey: master }, { redactor: new Redactor() });
    expect(await fresh.get('venue.key')).toBe('original-value-1');
    expect((await store.audit.verify(fresh.auditKeyring())).ok).toBe(true);
    await store.close();
  }, 300_000);

  it('refuses `secrets rotate` while a runtime run file is live', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tf-rotate-cli-'));
    homes.push(home);
    const master = randomBytes(32).toString('hex');
    const store = await openStore({ home });
    await Vault.create(store, { masterKey: master }, { redactor: new Redactor() });
    await store.close();
    mkdirSync(join(home, 'run'), { recursive: true });
    const startedAt = Date.now();
    writeFileSync(
      join(home, 'run', 'runtime.json'),
      JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:1', startedAt, profile: 'dev', configFile: null }),
    );
    const r = spawnSync(process.execPath, [BIN, 'secrets', 'rotate'], {
      env: { PATH: process.env.PATH ?? '', HOME: home, TRADEFORGE_HOME: home, TRADEFORGE_MASTER_KEY: master },
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/a runtime is running \(pid \d+\) with the vault open: stop it first/);
  }, 180_000);
});
