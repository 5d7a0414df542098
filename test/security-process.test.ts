import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { processAlive } from '../src/app/run-file.js';
import { assertMasterKeyEntropy, Redactor, unlockFromEnv, Vault } from '../src/security/index.js';
import { notTheRuntime } from '../src/security/process-identity.js';
import { openStore } from '../src/store/index.js';

const BIN = join(import.meta.dirname, '..', 'bin', 'tradeforge.js');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('process hygiene', () => {
  it('`stop` refuses a run file whose pid belongs to another program', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tf-stop-'));
    dirs.push(home);
    const runFileWritten = Date.now() - 60_000;
    const other = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      const pid = other.pid ?? -1;
      expect(notTheRuntime(pid, runFileWritten)).toMatch(/started at .* after the run file was written/);
      mkdirSync(join(home, 'run'));
      writeFileSync(
        join(home, 'run', 'runtime.json'),
        JSON.stringify({ pid, url: 'http://127.0.0.1:1', startedAt: runFileWritten, profile: 'dev', configFile: null }),
      );
      const r = spawnSync(process.execPath, [BIN, 'stop', '--timeout', '1'], {
        env: { PATH: process.env.PATH ?? '', HOME: home, TRADEFORGE_HOME: home },
        encoding: 'utf8',
        timeout: 180_000,
      });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/refusing to signal: pid \d+ started at .*sleep 600/);
      expect(processAlive(pid)).toBe(true);
      // A program started before the run file but not tradeforge is refused too.
      expect(notTheRuntime(pid, Date.now())).toMatch(/is `sleep 600`, not a tradeforge runtime/);
    } finally {
      other.kill('SIGKILL');
    }
  }, 300_000);

  it('disables core dumps for the process', () => {
    const script = `
      const { disableCoreDumps } = await import(${JSON.stringify(join(import.meta.dirname, '..', 'src', 'security', 'process-hygiene.ts'))});
      const ok = disableCoreDumps();
      const { readFileSync } = await import('node:fs');
      const line = readFileSync('/proc/self/limits', 'utf8').split('\\n').find((l) => l.startsWith('Max core file size'));
      process.stdout.write(JSON.stringify({ ok, line }));`;
    const r = spawnSync(
      'sh',
      [
        '-c',
        `ulimit -c unlimited 2>/dev/null; exec "$0" "$@"`,
        process.execPath,
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        script,
      ],
      {
        encoding: 'utf8',
        timeout: 180_000,
      },
    );
    const out = JSON.parse(r.stdout) as { ok: boolean; line: string };
    expect(out.ok).toBe(true);
    expect(out.line).toMatch(/^Max core file size\s+0\s+0\s+bytes/);
  }, 300_000);

  it('refuses master keys with low entropy', async () => {
    expect(() => assertMasterKeyEntropy(Buffer.alloc(32))).toThrow(/1-byte pattern repeated/);
    expect(() => assertMasterKeyEntropy(Buffer.from('0123456789abcdef0123456789abcdef'))).toThrow(/16-byte pattern/);
    expect(() => assertMasterKeyEntropy(Buffer.from('a'.repeat(16) + 'b'.repeat(16)))).toThrow(/only 2 distinct/);
    expect(() => assertMasterKeyEntropy(randomBytes(32))).not.toThrow();
    const home = mkdtempSync(join(tmpdir(), 'tf-entropy-'));
    dirs.push(home);
    const store = await openStore({ home });
    await expect(Vault.create(store, { masterKey: '00'.repeat(32) }, { redactor: new Redactor() })).rejects.toThrow(
      /master key is not random/,
    );
    await store.close();
  });

  it('reads the password from a file and scrubs the variables from the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tf-pwfile-'));
    dirs.push(dir);
    const file = join(dir, 'pw');
    writeFileSync(file, 'Correct-Horse-42\n', { mode: 0o600 });
    expect(unlockFromEnv({ TRADEFORGE_PASSWORD_FILE: file })).toEqual({ password: 'Correct-Horse-42' });
    expect(() => unlockFromEnv({ TRADEFORGE_PASSWORD_FILE: join(dir, 'missing') })).toThrow(
      /TRADEFORGE_PASSWORD_FILE.*cannot read .*ENOENT/,
    );
    // A child that reads its unlock material no longer has it in its environment, so its own children do not either.
    const script = `
      const { unlockFromEnv } = await import(${JSON.stringify(join(import.meta.dirname, '..', 'src', 'security', 'vault.ts'))});
      const u = unlockFromEnv();
      const { spawnSync } = await import('node:child_process');
      const env = spawnSync('env', { encoding: 'utf8' }).stdout;
      process.stdout.write(JSON.stringify({ u, leaked: /TRADEFORGE_PASSWORD/.test(env) }));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH ?? '', TRADEFORGE_PASSWORD: 'Env-Password-77' },
      encoding: 'utf8',
      timeout: 180_000,
    });
    expect(JSON.parse(r.stdout)).toEqual({ u: { password: 'Env-Password-77' }, leaked: false });
  }, 300_000);
});
