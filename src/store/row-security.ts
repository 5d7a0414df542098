/**
 * PostgreSQL row-level security (SEC-2, STORE-1; docs/store.md "Row-level security"). The application's own role
 * (`database.appRole`) is the engine's role: it writes the trading tables, the vault and the accounts, and is the
 * only role that may append to the audit log, of which it can read the chain head alone (to link the next record).
 * Two NOLOGIN group roles derived from its name govern everyone else: `<app>_viewer` reads positions, orders,
 * trades and fills and nothing else; `<app>_admin` reads every table including the audit log and writes none of
 * it. The app role is a member of both (NOINHERIT: it holds their rights only after `SET ROLE`), so it can read
 * the audit history for an admin through `withDbRole`. SQLite keeps its application-level checks (`can()`).
 */
import { type Kysely, sql, type Transaction } from 'kysely';
import { assertRoleName } from './migrations.js';

/** The PostgreSQL roles row-level security distinguishes. */
export interface RowSecurityRoles {
  /** The application's login role: the engine's role, the only writer of the audit log. */
  engine: string;
  /** Reads every table, the audit log included; writes nothing. */
  admin: string;
  /** Reads positions, orders, trades and fills only. */
  viewer: string;
}

/** The group roles of an application role: `<app>_admin` and `<app>_viewer`. */
export function rowSecurityRoles(appRole: string): RowSecurityRoles {
  return { engine: appRole, admin: `${appRole}_admin`, viewer: `${appRole}_viewer` };
}

/** Tables a viewer may read. */
export const VIEWER_TABLES = ['orders', 'fills', 'trades', 'positions'] as const;
/** Tables holding secrets or people: no viewer ever reads them. */
export const PRIVATE_TABLES = ['users', 'sessions', 'secrets', 'vault_meta', 'audit_keys'] as const;

/**
 * Creates the group roles, enables row-level security and (re)creates the policies. Idempotent; run by an
 * administrator who is a member of the audit table's owner (the migrations make it one) after every migration.
 */
export async function applyRowSecurity(db: Kysely<unknown>, appRole: string, auditOwner: string): Promise<void> {
  assertRoleName(appRole, 'database.appRole');
  assertRoleName(auditOwner, 'database.auditOwnerRole');
  const roles = rowSecurityRoles(appRole);
  const app = sql.id(roles.engine);
  const admin = sql.id(roles.admin);
  const viewer = sql.id(roles.viewer);
  const schema = sql.id((await sql<{ s: string }>`SELECT current_schema() AS s`.execute(db)).rows[0]?.s ?? 'public');
  for (const r of [roles.admin, roles.viewer]) {
    await sql`DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${sql.lit(r)}) THEN
    CREATE ROLE ${sql.id(r)} NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$`.execute(db);
  }
  // The app acts as an admin or a viewer only after SET ROLE: its own rights stay the engine's.
  await sql`ALTER ROLE ${app} NOINHERIT`.execute(db);
  await sql`GRANT ${admin}, ${viewer} TO ${app}`.execute(db);

  await sql`GRANT USAGE ON SCHEMA ${schema} TO ${admin}, ${viewer}`.execute(db);
  await sql`GRANT SELECT ON ALL TABLES IN SCHEMA ${schema} TO ${admin}`.execute(db);
  await sql`REVOKE ALL ON ALL TABLES IN SCHEMA ${schema} FROM ${viewer}`.execute(db);
  for (const t of VIEWER_TABLES) await sql`GRANT SELECT ON ${sql.id(t)} TO ${viewer}`.execute(db);

  // Trading tables: everyone reads, only the engine writes.
  for (const t of VIEWER_TABLES) {
    await policies(db, t, [
      sql`CREATE POLICY tf_read ON ${sql.id(t)} FOR SELECT TO ${app}, ${admin}, ${viewer} USING (true)`,
      sql`CREATE POLICY tf_engine_write ON ${sql.id(t)} FOR ALL TO ${app} USING (true) WITH CHECK (true)`,
    ]);
  }
  // Secrets and people: the engine (vault, logins) and admins; never a viewer.
  for (const t of PRIVATE_TABLES) {
    await policies(db, t, [
      sql`CREATE POLICY tf_engine_all ON ${sql.id(t)} FOR ALL TO ${app} USING (true) WITH CHECK (true)`,
      sql`CREATE POLICY tf_admin_read ON ${sql.id(t)} FOR SELECT TO ${admin} USING (true)`,
    ]);
  }
  // The audit log: admins read it, the engine appends and sees the chain head alone.
  await sql`CREATE OR REPLACE FUNCTION tradeforge_audit_head_seq() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = ${schema}
AS $$ SELECT max(seq) FROM audit_events $$`.execute(db);
  await sql`ALTER FUNCTION tradeforge_audit_head_seq() OWNER TO ${sql.id(auditOwner)}`.execute(db);
  await sql`REVOKE ALL ON FUNCTION tradeforge_audit_head_seq() FROM PUBLIC`.execute(db);
  await sql`GRANT EXECUTE ON FUNCTION tradeforge_audit_head_seq() TO ${app}`.execute(db);
  await policies(db, 'audit_events', [
    sql`CREATE POLICY tf_admin_read ON audit_events FOR SELECT TO ${admin} USING (true)`,
    sql`CREATE POLICY tf_engine_append ON audit_events FOR INSERT TO ${app} WITH CHECK (true)`,
    sql`CREATE POLICY tf_engine_head ON audit_events FOR SELECT TO ${app} USING (seq = tradeforge_audit_head_seq())`,
  ]);
}

// Enables row-level security on a table and replaces its tf_ policies with these.
async function policies(db: Kysely<unknown>, table: string, create: ReturnType<typeof sql>[]): Promise<void> {
  await sql`ALTER TABLE ${sql.id(table)} ENABLE ROW LEVEL SECURITY`.execute(db);
  const old = await sql<{ name: string }>`
    SELECT policyname AS name FROM pg_policies WHERE schemaname = current_schema() AND tablename = ${table}
      AND policyname LIKE 'tf\\_%'`.execute(db);
  for (const p of old.rows) await sql`DROP POLICY ${sql.id(p.name)} ON ${sql.id(table)}`.execute(db);
  for (const c of create) await c.execute(db);
}

/** Runs `fn` in one transaction as `role` (`SET LOCAL ROLE`): the policies of that role govern every statement. */
export async function withDbRole<DB, T>(
  db: Kysely<DB>,
  role: string,
  fn: (tx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  assertRoleName(role, 'role');
  return db.transaction().execute(async (tx) => {
    await sql`SET LOCAL ROLE ${sql.id(role)}`.execute(tx);
    return fn(tx);
  });
}

/**
 * The role the audit history is read as on this connection: `<current user>_admin` when the audit table is under
 * row-level security and the current user is a member of that role; undefined otherwise (no RLS, or an admin's own
 * login that reads it directly).
 */
export async function auditReadRole<DB>(db: Kysely<DB>): Promise<string | undefined> {
  const r = await sql<{ role: string }>`
    SELECT a.rolname AS role FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = current_schema()
      JOIN pg_roles a ON a.rolname = current_user || '_admin'
    WHERE c.relname = 'audit_events' AND c.relrowsecurity AND pg_has_role(current_user, a.oid, 'MEMBER')`.execute(db);
  return r.rows[0]?.role;
}
