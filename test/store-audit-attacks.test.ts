import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import { Redactor, Vault } from '../src/security/index.js';
import { AuditCheckpointer, verifyCheckpointFile } from '../src/store/audit-checkpoint.js';
import { auditHash, auditHmac, canonicalAuditRecord, GENESIS_HASH, type Store } from '../src/store/index.js';
import { backends, disableAuditProtection } from './fixtures/store/backends.js';

/*
 * Attacks on the audit log by someone who can write the database (file access on SQLite, the superuser on
 * PostgreSQL), each of which passed `verify` before issue 10. Every one must now be detected.
 */

const MASTER = () => ({ masterKey: randomBytes(32) });
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) {
    // Checkpoint files are made append-only (chattr +a) where possible; lift that to clean up.
    spawnSync('chattr', ['-R', '-a', d], { stdio: 'ignore' });
    rmSync(d, { recursive: true, force: true });
  }
});

async function seeded(open: () => Promise<Store>): Promise<{ store: Store; vault: Vault }> {
  const store = await open();
  const vault = await Vault.create(store, MASTER(), { redactor: new Redactor() });
  for (let i = 1; i <= 4; i++) {
    await store.audit.append({ actor: 'engine', action: 'order.submitted', subject: `order:c${i}`, details: { i } });
  }
  return { store, vault };
}

async function headValue(store: Store): Promise<string> {
  const r = await store.db.selectFrom('kv').select('value').where('key', '=', 'audit.head').executeTakeFirstOrThrow();
  return r.value;
}

async function writeHead(store: Store, value: string): Promise<void> {
  await store.db.updateTable('kv').set({ value }).where('key', '=', 'audit.head').execute();
}

for (const backend of backends()) {
  describe(`audit attacks on ${backend.name}`, () => {
    const opened: Store[] = [];
    const open = async () => {
      const s = await backend.open();
      opened.push(s);
      return s;
    };
    afterAll(async () => {
      for (const s of opened) await s.close();
      await backend.cleanup();
    });

    it('detects an audit table dropped and recreated empty (and the head deleted)', async () => {
      const { store, vault } = await seeded(open);
      expect((await store.audit.verify(vault.auditKeyring())).ok).toBe(true);
      await sql`DROP TABLE audit_events`.execute(store.db);
      await sql`CREATE TABLE audit_events (seq bigint primary key, time bigint not null, actor text not null,
        action text not null, subject text not null, details text not null, prev_hash text not null,
        hash text not null, hmac text not null)`.execute(store.db);
      await store.db.deleteFrom('kv').where('key', '=', 'audit.head').execute();
      const r = await store.audit.verify(vault.auditKeyring());
      expect(r.ok).toBe(false);
      expect(r.firstBad?.problem).toMatch(/genesis record "vault.create" is gone/);
      // A hash-only check (no key) catches it too: the vault record still demands a genesis record.
      expect((await store.audit.verify(undefined, { hashOnly: true })).ok).toBe(false);
    });

    it('detects a truncated table, and a fresh chain started after it', async () => {
      const { store, vault } = await seeded(open);
      await disableAuditProtection(store);
      await sql`DELETE FROM audit_events`.execute(store.db);
      await store.db.deleteFrom('kv').where('key', '=', 'audit.head').execute();
      expect((await store.audit.verify(vault.auditKeyring())).firstBad?.problem).toMatch(/empty: its genesis/);
      // The attacker starts a new chain with a key of their own: the first record is not the genesis record.
      store.audit.setKey(randomBytes(32));
      await store.audit.append({ actor: 'mallory', action: 'order.submitted', subject: 'order:x' });
      const r = await store.audit.verify(vault.auditKeyring());
      expect(r.ok).toBe(false);
      expect(r.firstBad?.seq).toBe(1);
    });

    it('detects a cut tail with an old head written back, through the external checkpoint', async () => {
      const { store, vault } = await seeded(open);
      const outside = mkdtempSync(join(tmpdir(), 'tf-checkpoints-'));
      dirs.push(outside);
      const file = join(outside, 'audit.checkpoints');
      // The backup copy: the head as it was after record 5.
      const oldHead = await headValue(store);
      const bus = new InProcessEventBus();
      const cp = new AuditCheckpointer(store.audit, { file }).start(bus, 0);
      await store.audit.append({ actor: 'risk', action: 'killswitch.triggered', subject: 'killswitch' });
      bus.publish({
        name: 'killswitch.triggered.v1',
        payload: { actor: 'risk', reason: 'daily loss' },
        time: Date.now(),
        correlationId: 'k1',
        source: 'risk',
      });
      await cp.close();
      const line = JSON.parse(readFileSync(file, 'utf8').trim()) as { seq: number; reason: string };
      expect(line).toMatchObject({ seq: 6, reason: 'killswitch' });
      await store.audit.append({ actor: 'alice', action: 'control.recover', subject: 'killswitch' });
      expect((await store.audit.verify(vault.auditKeyring())).ok).toBe(true);

      await disableAuditProtection(store);
      await sql`DELETE FROM audit_events WHERE seq > 5`.execute(store.db);
      await writeHead(store, oldHead);
      // Inside the database the cut is consistent again; the checkpoint outside it is not fooled.
      expect((await store.audit.verify(vault.auditKeyring())).ok).toBe(true);
      const c = await verifyCheckpointFile(store.audit, file, vault.auditKeyring());
      expect(c.ok).toBe(false);
      expect(c.problem).toMatch(/record 6, checkpointed at .* \(killswitch\) .* is missing: the chain was cut/);
    });

    it('refuses a head from before a key rotation (the epoch only grows)', async () => {
      const { store, vault } = await seeded(open);
      const oldHead = await headValue(store);
      await vault.rotate(MASTER());
      await store.audit.append({ actor: 'risk', action: 'killswitch.triggered', subject: 'killswitch' });
      expect((await store.audit.verify(vault.auditKeyring())).ok).toBe(true);
      await disableAuditProtection(store);
      await sql`DELETE FROM audit_events WHERE seq > 5`.execute(store.db);
      await writeHead(store, oldHead);
      const r = await store.audit.verify(vault.auditKeyring());
      expect(r.ok).toBe(false);
      expect(r.firstBad?.problem).toMatch(/epoch 1 but the vault is at epoch 2/);
    });

    it('refuses a forged head whose HMAC covers only seq:hash (the old format)', async () => {
      const { store, vault } = await seeded(open);
      const h = JSON.parse(await headValue(store)) as { seq: number; hash: string };
      const key = vault.auditKey();
      await writeHead(
        store,
        JSON.stringify({ seq: h.seq, hash: h.hash, hmac: auditHmac(key, `head:${h.seq}:${h.hash}`) }),
      );
      expect((await store.audit.verify(vault.auditKeyring())).firstBad?.problem).toMatch(
        /malformed or in an old format/,
      );
    });

    it('fails instead of silently checking hashes only when no key is given', async () => {
      const { store } = await seeded(open);
      store.audit.setKey(undefined);
      const r = await store.audit.verify();
      expect(r.ok).toBe(false);
      expect(r.firstBad?.problem).toMatch(/HMACs cannot be checked/);
    });

    it('re-chaining after deleting vault_meta still fails HMAC checks with the old keyring', async () => {
      const { store, vault } = await seeded(open);
      await disableAuditProtection(store);
      await store.db.deleteFrom('vault_meta').execute();
      await rechain(store, randomBytes(32));
      expect((await store.audit.verify(undefined, { hashOnly: true })).ok).toBe(true);
      expect((await store.audit.verify(vault.auditKeyring())).firstBad?.problem).toMatch(/HMAC is invalid/);
    });
  });
}

/** Rewrites every record's hashes and HMACs with the attacker's key (what a hash-only check cannot tell). */
export async function rechain(store: Store, key: Buffer): Promise<void> {
  const rows = await store.db.selectFrom('audit_events').selectAll().orderBy('seq').execute();
  let prev = GENESIS_HASH;
  for (const r of rows) {
    const rec = { seq: Number(r.seq), time: Number(r.time), actor: r.actor, action: r.action, subject: r.subject };
    const hash = auditHash(prev, canonicalAuditRecord({ ...rec, details: '{"rewritten":true}' }));
    await store.db
      .updateTable('audit_events')
      .set({ details: '{"rewritten":true}', prev_hash: prev, hash, hmac: auditHmac(key, hash) })
      .where('seq', '=', rec.seq)
      .execute();
    prev = hash;
  }
  const last = rows.length;
  await store.db
    .updateTable('kv')
    .set({ value: JSON.stringify({ seq: last, hash: prev, count: last, epoch: 1, time: 0, hmac: '00' }) })
    .where('key', '=', 'audit.head')
    .execute();
}
