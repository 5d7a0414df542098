import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './fixtures/cli.js';

const MASTER = randomBytes(32).toString('hex');
const homes: string[] = [];
afterAll(() => {
  for (const h of homes) rmSync(h, { recursive: true, force: true });
});

const cli = (home: string, args: string[], opts: { input?: string; env?: Record<string, string> } = {}) =>
  runCli(args, { home, cleanEnv: true, ...opts });

describe('tradeforge secrets and db (CLI subprocess)', { timeout: 240_000 }, () => {
  it('stores a secret from stdin, never from argv, and lists names only', async () => {
    const home = mkdtempSync(join(tmpdir(), 'tf-secrets-cli-'));
    homes.push(home);
    const env = { TRADEFORGE_MASTER_KEY: MASTER };
    const value = `tg-${randomBytes(16).toString('hex')}`;
    const set = cli(home, ['secrets', 'set', 'telegram.token'], { input: `${value}\n`, env });
    expect(set.code, set.err).toBe(0);
    const argv = cli(home, ['secrets', 'set', 'telegram.token', value], { env });
    expect(argv.code).toBe(2);
    expect(argv.err).toMatch(/never put a secret on the command line/);
    const list = cli(home, ['secrets', 'list']);
    expect(list.out).toMatch(/^telegram\.token\tlast used never/m);
    expect(list.out).not.toContain(value);
    for (const f of ['tradeforge.db', 'tradeforge.db-wal']) {
      try {
        expect(readFileSync(join(home, f)).includes(Buffer.from(value))).toBe(false);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    const rot = cli(home, ['secrets', 'rotate'], { env });
    expect(rot.out).toMatch(/rotated: 1 secret\(s\) re-encrypted under data key version 2/);
    const wrong = cli(home, ['secrets', 'delete', 'telegram.token'], {
      env: { TRADEFORGE_MASTER_KEY: randomBytes(32).toString('hex') },
    });
    expect(wrong.code).toBe(2);
    expect(wrong.err).toMatch(/wrong password or master key/);
    const status = cli(home, ['db', 'status']);
    expect(status.out).toMatch(/applied\s+0001_initial_schema/);
    expect(status.out).toMatch(/up to date/);
    const verify = cli(home, ['audit', 'verify'], { env });
    expect(verify.out).toMatch(/audit chain OK: 3 records/);
  });
});
