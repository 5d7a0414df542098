import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';
import type { Dialect } from './schema.js';

/*
 * Versioned migrations, compiled into the program (no files read at run time). Names sort in order of application;
 * a released migration never changes — a change is a new migration.
 */

// Migrations run before the typed schema exists, so they use an untyped handle.
type AnyDb = Kysely<unknown>;

function autoId(dialect: Dialect): 'bigserial' | 'integer' {
  return dialect === 'postgres' ? 'bigserial' : 'integer';
}

async function initialSchema(db: AnyDb, dialect: Dialect): Promise<void> {
  const s = db.schema;
  await s
    .createTable('strategies')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createTable('strategy_versions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('strategy_id', 'text', (c) => c.notNull().references('strategies.id'))
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('params', 'text', (c) => c.notNull())
    .addColumn('source_hash', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('strategy_versions_strategy_version_uq', ['strategy_id', 'version'])
    .execute();
  await s
    .createTable('backtests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('strategy_id', 'text')
    .addColumn('strategy_version_id', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('metrics', 'text')
    .addColumn('fingerprint', 'text')
    .addColumn('artefacts', 'text', (c) => c.notNull())
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  await s.createIndex('backtests_strategy_idx').on('backtests').column('strategy_id').execute();
  await s
    .createTable('deployments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('strategy_id', 'text', (c) => c.notNull())
    .addColumn('strategy_version_id', 'text')
    .addColumn('venue', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('symbols', 'text', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('config_hash', 'text', (c) => c.notNull())
    .addColumn('app_version', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('stopped_at', 'bigint')
    .execute();
  await s
    .createTable('orders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('client_order_id', 'text', (c) => c.notNull().unique())
    .addColumn('venue_order_id', 'text')
    .addColumn('deployment_id', 'text')
    .addColumn('strategy_id', 'text', (c) => c.notNull())
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('side', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('quantity', 'text', (c) => c.notNull())
    .addColumn('price', 'text')
    .addColumn('stop_price', 'text')
    .addColumn('time_in_force', 'text', (c) => c.notNull())
    .addColumn('reduce_only', 'integer', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('filled_quantity', 'text', (c) => c.notNull())
    .addColumn('average_fill_price', 'text', (c) => c.notNull())
    .addColumn('fees', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('signal_time', 'bigint')
    .addColumn('tag', 'text')
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('correlation_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .execute();
  await s.createIndex('orders_status_idx').on('orders').column('status').execute();
  await s.createIndex('orders_strategy_idx').on('orders').columns(['strategy_id', 'created_at']).execute();
  await s
    .createTable('fills')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('order_id', 'text', (c) => c.notNull())
    .addColumn('client_order_id', 'text', (c) => c.notNull())
    .addColumn('strategy_id', 'text', (c) => c.notNull())
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('side', 'text', (c) => c.notNull())
    .addColumn('price', 'text', (c) => c.notNull())
    .addColumn('quantity', 'text', (c) => c.notNull())
    .addColumn('fee', 'text', (c) => c.notNull())
    .addColumn('liquidity', 'text', (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('venue_trade_id', 'text')
    .addColumn('correlation_id', 'text')
    .execute();
  await s.createIndex('fills_order_idx').on('fills').column('order_id').execute();
  await s
    .createTable('trades')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('strategy_id', 'text', (c) => c.notNull())
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('side', 'text', (c) => c.notNull())
    .addColumn('entry_time', 'bigint', (c) => c.notNull())
    .addColumn('entry_price', 'text', (c) => c.notNull())
    .addColumn('exit_time', 'bigint', (c) => c.notNull())
    .addColumn('exit_price', 'text', (c) => c.notNull())
    .addColumn('quantity', 'text', (c) => c.notNull())
    .addColumn('fees', 'text', (c) => c.notNull())
    .addColumn('pnl', 'text', (c) => c.notNull())
    .addColumn('pnl_pct', 'text', (c) => c.notNull())
    .addColumn('exit_reason', 'text', (c) => c.notNull())
    .addColumn('entry_tag', 'text')
    .execute();
  await s.createIndex('trades_strategy_idx').on('trades').columns(['strategy_id', 'exit_time']).execute();
  await s
    .createTable('positions')
    .addColumn('strategy_id', 'text', (c) => c.notNull())
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('quantity', 'text', (c) => c.notNull())
    .addColumn('average_price', 'text', (c) => c.notNull())
    .addColumn('realized_pnl', 'text', (c) => c.notNull())
    .addColumn('fees', 'text', (c) => c.notNull())
    .addColumn('opened_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('positions_pk', ['strategy_id', 'symbol'])
    .execute();
  await s
    .createTable('balance_snapshots')
    .addColumn('id', autoId(dialect), (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
    .addColumn('venue', 'text', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('free', 'text', (c) => c.notNull())
    .addColumn('used', 'text', (c) => c.notNull())
    .addColumn('total', 'text', (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .execute();
  await s.createIndex('balance_snapshots_time_idx').on('balance_snapshots').columns(['venue', 'time']).execute();
  await s
    .createTable('risk_events')
    .addColumn('id', autoId(dialect), (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('strategy_id', 'text', (c) => c.notNull())
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('code', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('limit_value', 'text')
    .addColumn('actual_value', 'text')
    .addColumn('dry_run', 'integer', (c) => c.notNull())
    .addColumn('intent', 'text', (c) => c.notNull())
    .addColumn('correlation_id', 'text')
    .execute();
  await s.createIndex('risk_events_time_idx').on('risk_events').column('time').execute();
  await s
    .createTable('breaker_states')
    .addColumn('breaker', 'text', (c) => c.primaryKey())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('values', 'text', (c) => c.notNull())
    .addColumn('until', 'bigint')
    .addColumn('actor', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createTable('agent_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('agent', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('input', 'text', (c) => c.notNull())
    .addColumn('output', 'text')
    .addColumn('steps', 'text', (c) => c.notNull())
    .addColumn('cost', 'text')
    .addColumn('started_at', 'bigint', (c) => c.notNull())
    .addColumn('finished_at', 'bigint')
    .execute();
  await s
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('username', 'text', (c) => c.notNull().unique())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('is_owner', 'integer', (c) => c.notNull())
    .addColumn('totp_enabled', 'integer', (c) => c.notNull())
    .addColumn('failed_attempts', 'integer', (c) => c.notNull())
    .addColumn('locked_until', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('last_login_at', 'bigint')
    .execute();
  await s
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('family_id', 'text', (c) => c.notNull())
    .addColumn('access_hash', 'text', (c) => c.notNull().unique())
    .addColumn('access_expires_at', 'bigint', (c) => c.notNull())
    .addColumn('refresh_hash', 'text', (c) => c.notNull().unique())
    .addColumn('refresh_expires_at', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('rotated_at', 'bigint')
    .addColumn('revoked_at', 'bigint')
    .addColumn('revoke_reason', 'text')
    .execute();
  await s.createIndex('sessions_family_idx').on('sessions').column('family_id').execute();
  await s
    .createTable('secrets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('ciphertext', 'text', (c) => c.notNull())
    .addColumn('key_version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .execute();
  await s
    .createTable('vault_meta')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('kdf', 'text', (c) => c.notNull())
    .addColumn('salt', 'text', (c) => c.notNull())
    .addColumn('wrapped_data_key', 'text', (c) => c.notNull())
    .addColumn('wrapped_audit_key', 'text', (c) => c.notNull())
    .addColumn('key_version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('rotated_at', 'bigint')
    .execute();
  await s
    .createTable('audit_events')
    .addColumn('seq', 'bigint', (c) => c.primaryKey())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('prev_hash', 'text', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('hmac', 'text', (c) => c.notNull())
    .execute();
  await s.createIndex('audit_events_subject_idx').on('audit_events').column('subject').execute();
  await s.createIndex('audit_events_time_idx').on('audit_events').column('time').execute();
  await s
    .createTable('heartbeats')
    .addColumn('component', 'text', (c) => c.primaryKey())
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('detail', 'text')
    .execute();
  await s
    .createTable('strategy_state')
    .addColumn('deployment_id', 'text', (c) => c.notNull())
    .addColumn('strategy_id', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('strategy_state_pk', ['deployment_id', 'strategy_id'])
    .execute();
  await s
    .createTable('kv')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

// The audit table refuses UPDATE and DELETE at the database level; the hash chain catches raw file edits anyway.
async function auditAppendOnly(db: AnyDb, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') {
    await sql`CREATE OR REPLACE FUNCTION tradeforge_audit_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_events is append-only: % refused', TG_OP;
END
$$ LANGUAGE plpgsql`.execute(db);
    await sql`CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
FOR EACH ROW EXECUTE FUNCTION tradeforge_audit_append_only()`.execute(db);
    await sql`CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
FOR EACH STATEMENT EXECUTE FUNCTION tradeforge_audit_append_only()`.execute(db);
  } else {
    await sql`CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: UPDATE refused'); END`.execute(db);
    await sql`CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only: DELETE refused'); END`.execute(db);
  }
}

// Audit key epochs (the HMAC key rotates with the vault) and single-use TOTP steps.
async function securityHardening(db: AnyDb): Promise<void> {
  const s = db.schema;
  await s
    .alterTable('vault_meta')
    .addColumn('audit_epoch', 'integer', (c) => c.notNull().defaultTo(1))
    .execute();
  await s
    .alterTable('vault_meta')
    .addColumn('audit_epoch_first_seq', 'bigint', (c) => c.notNull().defaultTo(1))
    .execute();
  await s
    .createTable('audit_keys')
    .addColumn('epoch', 'integer', (c) => c.primaryKey())
    .addColumn('first_seq', 'bigint', (c) => c.notNull())
    .addColumn('last_seq', 'bigint', (c) => c.notNull())
    .addColumn('wrapped_key', 'text', (c) => c.notNull())
    .addColumn('retired_at', 'bigint', (c) => c.notNull())
    .execute();
  await s.alterTable('users').addColumn('totp_last_step', 'bigint').execute();
}

/** Default name of the PostgreSQL role that owns the audit table. */
export const DEFAULT_AUDIT_OWNER_ROLE = 'tradeforge_audit_owner';
const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Checks a PostgreSQL role name given in configuration (it is spliced into DDL as an identifier). */
export function assertRoleName(name: string, field: string): void {
  if (!ROLE_NAME.test(name)) {
    throw new Error(`${field}: "${name}" is not a valid role name (lower-case letters, digits, _; at most 63)`);
  }
}

/*
 * PostgreSQL: the audit table and its trigger function belong to a separate NOLOGIN role, so the role the
 * application connects as (which is not that owner) cannot ALTER TABLE ... DISABLE TRIGGER, TRUNCATE or DROP it.
 * Creating the role needs a database administrator (superuser or CREATEROLE); see docs/store.md.
 */
async function auditOwnerRole(db: AnyDb, dialect: Dialect, owner: string): Promise<void> {
  if (dialect !== 'postgres') return;
  assertRoleName(owner, 'database.auditOwnerRole');
  const who = await sql<{ rolsuper: boolean; rolcreaterole: boolean }>`
    SELECT rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user`.execute(db);
  const me = who.rows[0];
  if (!me?.rolsuper && !me?.rolcreaterole) {
    throw new Error(
      `the audit table must be owned by a separate role (${owner}); run \`tradeforge db migrate\` once as a database administrator (superuser or CREATEROLE) with database.appRole set to the role the application connects as`,
    );
  }
  await sql`DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${sql.lit(owner)}) THEN
    CREATE ROLE ${sql.id(owner)} NOLOGIN;
  END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$`.execute(db);
  await sql`GRANT ${sql.id(owner)} TO CURRENT_USER`.execute(db).catch(() => {});
  await sql`GRANT USAGE, CREATE ON SCHEMA ${sql.id(await currentSchema(db))} TO ${sql.id(owner)}`.execute(db);
  await sql`ALTER TABLE audit_events OWNER TO ${sql.id(owner)}`.execute(db);
  await sql`ALTER FUNCTION tradeforge_audit_append_only() OWNER TO ${sql.id(owner)}`.execute(db);
  await sql`REVOKE ALL ON audit_events FROM PUBLIC`.execute(db);
  await sql`GRANT SELECT, INSERT ON audit_events TO CURRENT_USER`.execute(db);
}

async function currentSchema(db: AnyDb): Promise<string> {
  const r = await sql<{ s: string }>`SELECT current_schema() AS s`.execute(db);
  return r.rows[0]?.s ?? 'public';
}

/**
 * PostgreSQL: gives the application's role what it needs and no more — read/write on every table but the audit
 * table, SELECT and INSERT only on `audit_events`. Idempotent; run after every migration by an administrator.
 */
export async function grantAppRole(db: Kysely<unknown>, appRole: string): Promise<void> {
  assertRoleName(appRole, 'database.appRole');
  const schema = sql.id(await currentSchema(db));
  const app = sql.id(appRole);
  await sql`GRANT USAGE ON SCHEMA ${schema} TO ${app}`.execute(db);
  await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${app}`.execute(db);
  await sql`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA ${schema} TO ${app}`.execute(db);
  await sql`REVOKE ALL ON audit_events FROM ${app}`.execute(db);
  await sql`GRANT SELECT, INSERT ON audit_events TO ${app}`.execute(db);
}

/*
 * Stored strategy versions (DEPLOY-1): each version keeps its source kind, compiled form and gate verdict beside
 * its source and hash; a strategy has a lifecycle state, `draft` until promoted.
 */
async function strategyVersionDetails(db: AnyDb): Promise<void> {
  const s = db.schema;
  await s.alterTable('strategy_versions').addColumn('source_kind', 'text').execute();
  await s.alterTable('strategy_versions').addColumn('compiled', 'text').execute();
  await s.alterTable('strategy_versions').addColumn('gate', 'text').execute();
  await s
    .alterTable('strategies')
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('draft'))
    .execute();
}

/* The assistant's signal cards (AUTH-10): what each model suggested, and what became of it once a person decided. */
async function assistantSignals(db: AnyDb): Promise<void> {
  const s = db.schema;
  await s
    .createTable('assistant_signals')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('run_id', 'text', (c) => c.notNull())
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('size', 'text', (c) => c.notNull())
    .addColumn('price', 'text')
    .addColumn('confidence', 'double precision', (c) => c.notNull())
    .addColumn('reasoning', 'text', (c) => c.notNull())
    .addColumn('reference_price', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('order_id', 'text')
    .addColumn('decision', 'text')
    .addColumn('actor', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('decided_at', 'bigint')
    .execute();
  await s.createIndex('assistant_signals_created_idx').on('assistant_signals').column('created_at').execute();
}

/*
 * The promotion pipeline (DEPLOY-1..4): each stored version has its own lifecycle state, every transition is kept
 * (who, why, the evidence it was decided on), and a deployment records the runtime profile it ran under, so a dry
 * run is known to have been a `dry_run` run.
 */
async function strategyVersionLifecycle(db: AnyDb, dialect: Dialect): Promise<void> {
  const s = db.schema;
  await s
    .alterTable('strategy_versions')
    .addColumn('state', 'text', (c) => c.notNull().defaultTo('draft'))
    .execute();
  await s
    .createTable('strategy_transitions')
    .addColumn('seq', autoId(dialect), (c) => (dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()))
    .addColumn('strategy_id', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('from_state', 'text', (c) => c.notNull())
    .addColumn('to_state', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('evidence', 'text', (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .execute();
  await s
    .createIndex('strategy_transitions_version_idx')
    .on('strategy_transitions')
    .columns(['strategy_id', 'version'])
    .execute();
  await s.alterTable('deployments').addColumn('profile', 'text').execute();
}

/**
 * 0008: where a deployment came from (`config` file or `api`, null for rows before it) and who created it over the
 * API: a runtime restarts the API's deployments in the state they had (docs/api.md "Deployments").
 */
async function deploymentOrigin(db: AnyDb): Promise<void> {
  const s = db.schema;
  await s.alterTable('deployments').addColumn('origin', 'text').execute();
  await s.alterTable('deployments').addColumn('created_by', 'text').execute();
}

/**
 * 0009: funding payments of perpetual futures booked into a deployment's book (issue 15): one row per venue income
 * id and deployment, so a restart or an overlapping poll never books a payment twice; replayed into the book on start.
 */
async function fundingPayments(db: AnyDb): Promise<void> {
  await db.schema
    .createTable('funding_payments')
    .addColumn('venue', 'text', (c) => c.notNull())
    .addColumn('income_id', 'text', (c) => c.notNull())
    .addColumn('deployment_id', 'text', (c) => c.notNull())
    .addColumn('symbol', 'text', (c) => c.notNull())
    .addColumn('amount', 'text', (c) => c.notNull())
    .addColumn('asset', 'text', (c) => c.notNull())
    .addColumn('time', 'bigint', (c) => c.notNull())
    .addColumn('booked_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('funding_payments_pk', ['venue', 'income_id', 'deployment_id'])
    .execute();
  await db.schema
    .createIndex('funding_payments_deployment_idx')
    .on('funding_payments')
    .columns(['deployment_id', 'time'])
    .execute();
}

/** Options that shape the migrations (PostgreSQL role names). */
export interface MigrationOptions {
  /** Owner of the audit table on PostgreSQL (default `tradeforge_audit_owner`). */
  auditOwnerRole?: string;
}

/** All migrations, by name, for one dialect. */
export function migrationsFor(dialect: Dialect, opts: MigrationOptions = {}): Record<string, Migration> {
  return {
    '0001_initial_schema': { up: (db) => initialSchema(db, dialect) },
    '0002_audit_append_only': { up: (db) => auditAppendOnly(db, dialect) },
    '0003_security_hardening': { up: (db) => securityHardening(db) },
    '0004_audit_owner_role': {
      up: (db) => auditOwnerRole(db, dialect, opts.auditOwnerRole ?? DEFAULT_AUDIT_OWNER_ROLE),
    },
    '0005_strategy_version_details': { up: (db) => strategyVersionDetails(db) },
    '0006_assistant_signals': { up: (db) => assistantSignals(db) },
    '0007_strategy_version_lifecycle': { up: (db) => strategyVersionLifecycle(db, dialect) },
    '0008_deployment_origin': { up: (db) => deploymentOrigin(db) },
    '0009_funding_payments': { up: (db) => fundingPayments(db) },
  };
}

/** Kysely migration provider that serves the compiled-in migrations. */
export class InCodeMigrationProvider implements MigrationProvider {
  constructor(
    private readonly dialect: Dialect,
    private readonly opts: MigrationOptions = {},
  ) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrationsFor(this.dialect, this.opts);
  }
}
