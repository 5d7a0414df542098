import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redactor, Vault } from '../src/security/index.js';
import { openStore, type Store } from '../src/store/index.js';
import { PG_URL } from './fixtures/store/backends.js';

/*
 * On PostgreSQL the application's role must not be able to erase the audit log: the table belongs to a separate
 * NOLOGIN role, and the app role has SELECT and INSERT on it only. An administrator (here the test's superuser)
 * runs the migrations with database.appRole set; the app then connects as that role.
 */
const suffix = randomBytes(5).toString('hex');
const schema = `tf_h10_roles_${suffix}`;
const appRole = `tf_h10_app_${suffix}`;
const ownerRole = `tf_h10_audit_${suffix}`;
const home = mkdtempSync(join(tmpdir(), 'tf-pg-roles-'));
const appUrl = PG_URL.replace(/\/\/[^@/]+@/, `//${appRole}@`);

let admin: Store;
let app: Store;

beforeAll(async () => {
  admin = await openStore({ home, databaseUrl: PG_URL, migrate: false });
  await sql`CREATE ROLE ${sql.id(appRole)} LOGIN NOSUPERUSER NOCREATEROLE`.execute(admin.db);
  await admin.close();
  admin = await openStore({
    home,
    databaseUrl: PG_URL,
    pgSchema: schema,
    pgAppRole: appRole,
    pgAuditOwnerRole: ownerRole,
  });
  app = await openStore({ home, databaseUrl: appUrl, pgSchema: schema });
});

afterAll(async () => {
  await app?.close();
  await admin?.close();
  const root = await openStore({ home, databaseUrl: PG_URL, migrate: false });
  try {
    await sql`DROP SCHEMA IF EXISTS ${sql.id(schema)} CASCADE`.execute(root.db);
    for (const r of [appRole, ownerRole]) await sql`DROP ROLE IF EXISTS ${sql.id(r)}`.execute(root.db);
  } finally {
    await root.close();
  }
  rmSync(home, { recursive: true, force: true });
});

describe('PostgreSQL roles: the app role cannot erase the audit log', () => {
  it('gives the audit table to a separate owner and the app role only SELECT and INSERT', async () => {
    const owner = await sql<{ owner: string }>`
      SELECT tableowner AS owner FROM pg_tables WHERE schemaname = ${schema} AND tablename = 'audit_events'`.execute(
      admin.db,
    );
    expect(owner.rows[0]?.owner).toBe(ownerRole);
    const privs = await sql<{ p: string }>`
      SELECT privilege_type AS p FROM information_schema.role_table_grants
      WHERE table_schema = ${schema} AND table_name = 'audit_events' AND grantee = ${appRole} ORDER BY 1`.execute(
      admin.db,
    );
    expect(privs.rows.map((r) => r.p)).toEqual(['INSERT', 'SELECT']);
  });

  it('lets the app role run: create the vault, append, verify', async () => {
    const vault = await Vault.create(app, { masterKey: randomBytes(32) }, { redactor: new Redactor() });
    await vault.set('venue.key', 'k-123456', 'test');
    await app.audit.append({ actor: 'engine', action: 'order.submitted', subject: 'order:c1' });
    expect(await app.audit.verify(vault.auditKeyring())).toMatchObject({ ok: true, checked: 3 });
  });

  it('refuses DISABLE TRIGGER, TRUNCATE, DELETE, UPDATE and DROP from the app role', async () => {
    await expect(sql`ALTER TABLE audit_events DISABLE TRIGGER USER`.execute(app.db)).rejects.toThrow(/must be owner/);
    await expect(sql`TRUNCATE audit_events`.execute(app.db)).rejects.toThrow(/permission denied/);
    await expect(sql`DELETE FROM audit_events`.execute(app.db)).rejects.toThrow(/permission denied/);
    await expect(sql`UPDATE audit_events SET actor = 'mallory'`.execute(app.db)).rejects.toThrow(/permission denied/);
    await expect(sql`DROP TABLE audit_events`.execute(app.db)).rejects.toThrow(/must be owner/);
    await expect(sql`ALTER TABLE audit_events OWNER TO ${sql.id(appRole)}`.execute(app.db)).rejects.toThrow(
      /must be owner/,
    );
    expect(await app.audit.count()).toBe(3);
  });
});
