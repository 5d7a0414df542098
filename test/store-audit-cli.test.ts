import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Redactor, Vault } from '../src/security/index.js';
import { openStore } from '../src/store/index.js';
import { runCli } from './fixtures/cli.js';

const MASTER = randomBytes(32).toString('hex');
const homes: string[] = [];
afterAll(() => {
  for (const h of homes) {
    // Checkpoint files are made append-only (chattr +a) where possible; lift that to clean up.
    spawnSync('chattr', ['-R', '-a', h], { stdio: 'ignore' });
    rmSync(h, { recursive: true, force: true });
  }
});

const cli = (home: string, args: string[], opts: { input?: string; env?: Record<string, string> } = {}) =>
  runCli(args, { home, cleanEnv: true, ...opts });

/** A home with a vault (master key) and a few audit records, including one order's story. */
async function seededHome(): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'tf-audit-cli-'));
  homes.push(home);
  const store = await openStore({ home });
  await Vault.create(store, { masterKey: MASTER }, { redactor: new Redactor() });
  const t = Date.parse('2026-03-01T10:00:00Z');
  await store.audit.append({
    actor: 'risk',
    action: 'risk.checked',
    subject: 'correlation:k9',
    details: { intent: { symbol: 'BTC/USDT', clientOrderId: 'c9' }, accepted: true, correlationId: 'k9' },
    time: t,
  });
  await store.audit.append({
    actor: 'engine',
    action: 'order.submitted',
    subject: 'order:o9',
    details: { correlationId: 'k9', status: 'submitted' },
    time: t + 1,
  });
  await store.audit.append({
    actor: 'venue:paper',
    action: 'venue.message',
    subject: 'order:o9',
    details: { message: 'accepted by venue' },
    time: t + 2,
  });
  await store.audit.append({
    actor: 'venue:paper',
    action: 'fill.executed',
    subject: 'order:o9',
    details: { id: 'f9' },
    time: t + 3,
  });
  await store.audit.append({
    actor: 'alice',
    action: 'config.change',
    subject: 'config:risk.maxOrderNotional',
    details: { to: 500 },
    time: t + 86_400_000,
  });
  await store.close();
  return home;
}

function rawDb(home: string): BetterSqlite3.Database {
  const db = new BetterSqlite3(join(home, 'tradeforge.db'));
  db.exec('DROP TRIGGER audit_events_no_update; DROP TRIGGER audit_events_no_delete;');
  return db;
}

describe('tradeforge audit (CLI subprocess)', { timeout: 180_000 }, () => {
  it('confirms an intact chain (with HMAC when the vault unlocks) and names a modified record', async () => {
    const home = await seededHome();
    const ok = cli(home, ['audit', 'verify'], { env: { TRADEFORGE_MASTER_KEY: MASTER } });
    expect(ok.code, ok.err).toBe(0);
    expect(ok.out).toMatch(/audit chain OK: 6 records verified \(hash chain and HMAC\)/);
    const noKey = cli(home, ['audit', 'verify']);
    expect(noKey.code).toBe(2);
    expect(noKey.err).toMatch(/needs the audit key: set TRADEFORGE_MASTER_KEY/);
    const hashOnly = cli(home, ['audit', 'verify', '--hash-only']);
    expect(hashOnly.code).toBe(0);
    expect(hashOnly.out).toMatch(/hash chain only, as chosen with --hash-only/);

    const db = rawDb(home);
    db.prepare('UPDATE audit_events SET details = ? WHERE seq = 3').run('{"message":"rejected"}');
    db.close();
    const bad = cli(home, ['audit', 'verify'], { env: { TRADEFORGE_MASTER_KEY: MASTER } });
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/BROKEN at record 3: record 3: content does not match its hash/);
  });

  it('names a deleted record and a reordered one', async () => {
    const home = await seededHome();
    const db = rawDb(home);
    db.prepare('DELETE FROM audit_events WHERE seq = 2').run();
    db.close();
    const del = cli(home, ['audit', 'verify', '--hash-only']);
    expect(del.code).toBe(1);
    expect(del.out).toMatch(/BROKEN at record 2: record 2 is missing/);

    const home2 = await seededHome();
    const db2 = rawDb(home2);
    // Move record 4 before record 3 by swapping their sequence numbers.
    db2.exec(
      'UPDATE audit_events SET seq = -1 WHERE seq = 3; UPDATE audit_events SET seq = 3 WHERE seq = 4; UPDATE audit_events SET seq = 4 WHERE seq = -1;',
    );
    db2.close();
    const re = cli(home2, ['audit', 'verify', '--hash-only']);
    expect(re.code).toBe(1);
    expect(re.out).toMatch(/BROKEN at record 3/);
  });

  it('refuses to fall back to hash-only checks when vault_meta is gone, and proves checkpoints', async () => {
    const home = await seededHome();
    const outside = mkdtempSync(join(tmpdir(), 'tf-audit-cp-'));
    homes.push(outside);
    const file = join(outside, 'checkpoints');
    const cp = cli(home, ['audit', 'checkpoint', '--out', file], { env: { TRADEFORGE_MASTER_KEY: MASTER } });
    expect(cp.code, cp.err).toBe(0);
    expect(cp.out).toMatch(/checkpoint of record 6 \(epoch 1\) appended to/);
    const inside = cli(home, ['audit', 'checkpoint', '--out', join(home, 'cp')], {
      env: { TRADEFORGE_MASTER_KEY: MASTER },
    });
    expect(inside.err).toMatch(/is inside TRADEFORGE_HOME/);
    const ok = cli(home, ['audit', 'verify', '--checkpoint', file], { env: { TRADEFORGE_MASTER_KEY: MASTER } });
    expect(ok.out).toMatch(/6 records verified \(hash chain and HMAC; 1 checkpoint\(s\) in .* confirmed\)/);

    const db = rawDb(home);
    db.exec('DELETE FROM audit_events WHERE seq > 4; DELETE FROM vault_meta;');
    db.close();
    const r = cli(home, ['audit', 'verify'], { env: { TRADEFORGE_MASTER_KEY: MASTER } });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/BROKEN at record 0: unlock material is set but the vault record \(vault_meta\) is missing/);
  });

  it('exports a time range as JSON lines and reconstructs an order story', async () => {
    const home = await seededHome();
    const out = join(home, 'audit.jsonl');
    const r = cli(home, ['audit', 'export', '--from', '2026-03-01', '--to', '2026-03-02', '--out', out]);
    expect(r.code, r.err).toBe(0);
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; action: string; details: unknown });
    expect(lines.map((l) => l.action)).toEqual(['risk.checked', 'order.submitted', 'venue.message', 'fill.executed']);
    expect(lines[0].details).toMatchObject({ accepted: true });
    expect(cli(home, ['audit', 'export', '--from', 'yesterday']).err).toMatch(/--from: "yesterday" is not a date/);

    const story = cli(home, ['audit', 'order', 'o9']);
    expect(story.code, story.err).toBe(0);
    expect(story.out).toMatch(/order o9 \(correlation k9\)/);
    expect(story.out).toMatch(/signal: .*"clientOrderId":"c9"/);
    expect(story.out).toMatch(/risk.checked[\s\S]*order.submitted[\s\S]*venue.message[\s\S]*fill.executed/);
    const missing = cli(home, ['audit', 'order', 'nope']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/no order or audit record for order "nope"/);
  });
});
