import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { can } from '../src/security/permissions.js';
import { openStore, type Store } from '../src/store/index.js';
import { rowSecurityRoles } from '../src/store/row-security.js';
import { PG_URL } from './fixtures/store/backends.js';

/*
 * Issue 18, item 4: row-level security on PostgreSQL. An administrator (the test's superuser) migrates with
 * database.appRole and database.rowSecurity; the application connects as the app role (the engine's role), and
 * people or tools connect with logins that are members of <app>_viewer or <app>_admin. Unique schema and role
 * names per run, all dropped afterwards.
 */
const suffix = randomBytes(5).toString('hex');
const schema = `tf_rls_${suffix}`;
const appRole = `tf_rls_app_${suffix}`;
const ownerRole = `tf_rls_owner_${suffix}`;
const roles = rowSecurityRoles(appRole);
const viewerLogin = `tf_rls_v_${suffix}`;
const adminLogin = `tf_rls_a_${suffix}`;
const home = mkdtempSync(join(tmpdir(), 'tf-pg-rls-'));
const urlAs = (role: string) => PG_URL.replace(/\/\/[^@/]+@/, `//${role}@`);

let root: pg.Client;
let app: Store;
let viewer: pg.Client;
let admin: pg.Client;
let engine: pg.Client;

async function client(role: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: urlAs(role) });
  await c.connect();
  await c.query(`SET search_path TO "${schema}"`);
  return c;
}

/** The rows a query returns, or the database's error message. */
async function attempt(c: pg.Client, text: string): Promise<{ rows: Record<string, unknown>[] } | { error: string }> {
  try {
    return { rows: (await c.query(text)).rows };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

beforeAll(async () => {
  root = new pg.Client({ connectionString: PG_URL });
  await root.connect();
  await root.query(`CREATE ROLE "${appRole}" LOGIN NOSUPERUSER NOCREATEROLE`);
  const migrated = await openStore({
    home,
    databaseUrl: PG_URL,
    pgSchema: schema,
    pgAppRole: appRole,
    pgAuditOwnerRole: ownerRole,
    pgRowSecurity: true,
  });
  await migrated.close();
  await root.query(`CREATE ROLE "${viewerLogin}" LOGIN IN ROLE "${roles.viewer}"`);
  await root.query(`CREATE ROLE "${adminLogin}" LOGIN IN ROLE "${roles.admin}"`);

  // The application, as the engine's role, writes through the store as it does at run time.
  app = await openStore({ home, databaseUrl: urlAs(appRole), pgSchema: schema });
  app.audit.setKey(randomBytes(32));
  for (let k = 1; k <= 3; k++) {
    await app.audit.append({ actor: 'engine', action: 'order.submitted', subject: `order:o${k}`, details: { k } });
  }
  engine = await client(appRole);
  await engine.query(`INSERT INTO orders (id, client_order_id, strategy_id, symbol, side, type, quantity, time_in_force,
      reduce_only, status, filled_quantity, average_fill_price, fees, created_at, updated_at, source, correlation_id)
    VALUES ('o1', 'c1', 's', 'BTC/USDT', 'buy', 'market', '0.1', 'GTC', 0, 'filled', '0.1', '100', '0.01', 1, 2,
      'strategy', 'k1')`);
  await engine.query(`INSERT INTO positions (strategy_id, symbol, quantity, average_price, realized_pnl, fees,
      opened_at, updated_at) VALUES ('s', 'BTC/USDT', '0.1', '100', '0', '0.01', 1, 2)`);
  await engine.query(`INSERT INTO trades (id, strategy_id, symbol, side, entry_time, entry_price, exit_time,
      exit_price, quantity, fees, pnl, pnl_pct, exit_reason)
    VALUES ('t1', 's', 'BTC/USDT', 'long', 1, '100', 2, '110', '0.1', '0.02', '0.98', '0.098', 'exit_signal')`);
  await engine.query(`INSERT INTO users (id, username, password_hash, role, is_owner, totp_enabled, failed_attempts,
      created_at, updated_at) VALUES ('u1', 'alice', '$argon2id$x', 'admin', 1, 0, 0, 1, 1)`);
  await engine.query(`INSERT INTO secrets (name, ciphertext, key_version, created_at, updated_at)
    VALUES ('venue.sim.apiKey', 'v1:cipher', 1, 1, 1)`);
  viewer = await client(viewerLogin);
  admin = await client(adminLogin);
});

afterAll(async () => {
  for (const c of [viewer, admin, engine]) await c?.end();
  await app?.close();
  try {
    await root.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    for (const r of [viewerLogin, adminLogin, appRole, roles.viewer, roles.admin, ownerRole]) {
      await root.query(`DROP OWNED BY "${r}"`).catch(() => undefined);
      await root.query(`DROP ROLE IF EXISTS "${r}"`);
    }
  } finally {
    await root.end();
  }
  rmSync(home, { recursive: true, force: true });
});

describe('row-level security on PostgreSQL', () => {
  it('puts the trading, private and audit tables under row-level security', async () => {
    const r = await root.query(
      `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relrowsecurity ORDER BY 1`,
      [schema],
    );
    expect(r.rows.map((x) => x.relname)).toEqual([
      'audit_events',
      'audit_keys',
      'fills',
      'orders',
      'positions',
      'secrets',
      'sessions',
      'trades',
      'users',
      'vault_meta',
    ]);
  });

  it('a viewer reads positions, orders and trades', async () => {
    expect(await attempt(viewer, 'SELECT id FROM orders')).toEqual({ rows: [{ id: 'o1' }] });
    expect(await attempt(viewer, 'SELECT symbol FROM positions')).toEqual({ rows: [{ symbol: 'BTC/USDT' }] });
    expect(await attempt(viewer, 'SELECT id FROM trades')).toEqual({ rows: [{ id: 't1' }] });
  });

  it('a viewer never reads secrets, users, sessions or the audit log, and writes nothing', async () => {
    for (const t of ['secrets', 'users', 'sessions', 'audit_events', 'vault_meta', 'audit_keys']) {
      expect(await attempt(viewer, `SELECT * FROM ${t}`)).toEqual({ error: `permission denied for table ${t}` });
    }
    expect(await attempt(viewer, "UPDATE orders SET status = 'cancelled'")).toEqual({
      error: 'permission denied for table orders',
    });
    expect(await attempt(viewer, `SET ROLE "${roles.admin}"`)).toEqual({
      error: `permission denied to set role "${roles.admin}"`,
    });
  });

  it('even a table grant given to viewers by mistake shows them no user and no secret: no policy admits them', async () => {
    await root.query(`GRANT SELECT ON "${schema}".users, "${schema}".secrets TO "${roles.viewer}"`);
    try {
      expect(await attempt(viewer, 'SELECT * FROM users')).toEqual({ rows: [] });
      expect(await attempt(viewer, 'SELECT * FROM secrets')).toEqual({ rows: [] });
    } finally {
      await root.query(`REVOKE SELECT ON "${schema}".users, "${schema}".secrets FROM "${roles.viewer}"`);
    }
  });

  it('an admin reads the whole audit log, users and secrets, but cannot write an audit record', async () => {
    const audit = await attempt(admin, 'SELECT seq FROM audit_events ORDER BY seq');
    expect(audit).toEqual({ rows: [{ seq: '1' }, { seq: '2' }, { seq: '3' }] });
    expect(await attempt(admin, 'SELECT username FROM users')).toEqual({ rows: [{ username: 'alice' }] });
    expect(await attempt(admin, 'SELECT name FROM secrets')).toEqual({ rows: [{ name: 'venue.sim.apiKey' }] });
    const forged = `INSERT INTO audit_events (seq, time, actor, action, subject, details, prev_hash, hash, hmac)
      VALUES (4, 4, 'admin', 'x', 'x', '{}', 'p', 'h', 'm')`;
    expect(await attempt(admin, forged)).toEqual({ error: 'permission denied for table audit_events' });
    expect(await attempt(admin, "UPDATE orders SET status = 'cancelled'")).toEqual({
      error: 'permission denied for table orders',
    });
  });

  it("the engine's role appends to the audit log but reads only its chain head", async () => {
    // Its own queries see the head alone: enough to link the next record, none of the history.
    expect(await attempt(engine, 'SELECT seq FROM audit_events')).toEqual({ rows: [{ seq: '3' }] });
    await app.audit.append({ actor: 'engine', action: 'order.filled', subject: 'order:o1' });
    expect(await attempt(engine, 'SELECT seq FROM audit_events')).toEqual({ rows: [{ seq: '4' }] });
    expect(await attempt(admin, 'SELECT count(*)::int AS n FROM audit_events')).toEqual({ rows: [{ n: 4 }] });
    // Append-only stays: no update or delete, whoever asks.
    expect(await attempt(engine, 'DELETE FROM audit_events')).toEqual({
      error: 'permission denied for table audit_events',
    });
  });

  it('the application reads the audit history for an admin through the admin role (verify, stories)', async () => {
    const v = await app.audit.verify();
    expect(v).toMatchObject({ ok: true, checked: 4, hmacChecked: true });
    expect((await app.audit.bySubjects(['order:o1'])).map((r) => r.action)).toEqual([
      'order.submitted',
      'order.filled',
    ]);
    expect(await app.audit.count()).toBe(4);
  });

  it('SQLite keeps its application-level checks', () => {
    expect(can('viewer', 'read')).toBe(true);
    expect(can('viewer', 'audit.export')).toBe(false);
    expect(can('viewer', 'secrets.list')).toBe(false);
    expect(can('admin', 'audit.export')).toBe(true);
  });
});
