import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import { ConfigError } from '../core/errors.js';
import type { Database, Dialect } from './schema.js';

/** Where the store lives: a SQLite file (default) or a PostgreSQL URL. */
export interface ConnectOptions {
  /** SQLite database file (e.g. `$TRADEFORGE_HOME/tradeforge.db`). */
  sqliteFile: string;
  /** `postgres://...`; when set, SQLite is not used. */
  databaseUrl?: string;
  /** PostgreSQL schema to use (created when missing); tests isolate themselves with a unique one. */
  pgSchema?: string;
  /**
   * SQLite commit durability. `full` (default): every commit is fsynced before it returns. `batched`: a commit
   * returns once written to the WAL file (it survives a crash or kill -9 of the process) and the store's WalSyncer
   * fsyncs the WAL off the event loop within its window (what a power loss can lose). The live runtime uses
   * `batched` so an fsync is not on every order's path (docs/live.md, "Durability of the journal").
   */
  sqliteSync?: 'full' | 'batched';
}

/** An open Kysely handle plus the dialect it speaks. */
export interface Connection {
  db: Kysely<Database>;
  dialect: Dialect;
  /** Human-readable location (file path or URL without password). */
  location: string;
  /** SQLite with `sqliteSync: 'batched'`: the WAL file a WalSyncer must fsync. */
  walFile?: string;
  /**
   * SQLite: the raw better-sqlite3 handle under `db`, for synchronous prepared-statement writes on the live order
   * path (SqliteJournalWriter). Kysely shares it: never write through it while `inTransaction` is true.
   */
  sqlite?: BetterSqlite3.Database;
}

const INT8_OID = 20;
/** Batched SQLite: WAL pages (64 MiB) past which SQLite checkpoints in the commit, if the background one lags. */
const FAR_AUTOCHECKPOINT_PAGES = 16_384;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Opens the database: WAL-mode SQLite (fsync on every commit, or batched), or a PostgreSQL pool. */
export async function connect(opts: ConnectOptions): Promise<Connection> {
  const url = opts.databaseUrl?.trim();
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) {
      throw new ConfigError('database.url', `must start with postgres:// (got "${url.split(':')[0]}:...")`);
    }
    if (opts.pgSchema !== undefined && !SCHEMA_NAME.test(opts.pgSchema)) {
      throw new ConfigError('database.schema', `"${opts.pgSchema}" is not a valid schema name`);
    }
    const pool = new pg.Pool({
      connectionString: url,
      max: 10,
      // Epoch-ms times and sequence numbers are bigint columns; they fit a double exactly.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID
            ? (v: string) => Number(v)
            : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
      },
      ...(opts.pgSchema ? { options: `-c search_path=${opts.pgSchema}` } : {}),
    });
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    try {
      if (opts.pgSchema) {
        // An application role without CREATE on the database may use a schema an administrator made: look first.
        const found = await sql`SELECT 1 FROM pg_namespace WHERE nspname = ${opts.pgSchema}`.execute(db);
        if (found.rows.length === 0) await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(opts.pgSchema)}`.execute(db);
      } else await sql`SELECT 1`.execute(db);
    } catch (err) {
      await db.destroy();
      const msg = err instanceof Error ? err.message : String(err);
      throw new ConfigError('database.url', `cannot connect to PostgreSQL at ${redactUrl(url)}: ${msg}`);
    }
    return { db, dialect: 'postgres', location: redactUrl(url) };
  }
  mkdirSync(dirname(opts.sqliteFile), { recursive: true, mode: 0o700 });
  const file = new BetterSqlite3(opts.sqliteFile);
  file.pragma('journal_mode = WAL');
  // The database holds password hashes and the audit log: owner only, whatever the umask was.
  for (const f of [opts.sqliteFile, `${opts.sqliteFile}-wal`, `${opts.sqliteFile}-shm`, `${opts.sqliteFile}-journal`]) {
    if (existsSync(f)) chmodSync(f, 0o600);
  }
  // FULL: a commit is on disk before it returns, so an acknowledged order survives a crash or power loss.
  // NORMAL (batched): a commit is in the WAL file (the OS) before it returns — it survives kill -9 — and the
  // store's WalSyncer fsyncs the WAL off the event loop, so a power loss loses at most its window.
  const batched = opts.sqliteSync === 'batched';
  file.pragma(batched ? 'synchronous = NORMAL' : 'synchronous = FULL');
  // Batched: SQLite's own checkpoint would run inside the commit that crosses its threshold (ms of copying and
  // fsync on the order path); the store's WalCheckpointer checkpoints on a worker thread, this is only a far bound.
  if (batched) file.pragma(`wal_autocheckpoint = ${FAR_AUTOCHECKPOINT_PAGES}`);
  file.pragma('foreign_keys = ON');
  file.pragma('busy_timeout = 5000');
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: file }) });
  return {
    db,
    dialect: 'sqlite',
    location: opts.sqliteFile,
    sqlite: file,
    ...(batched ? { walFile: `${opts.sqliteFile}-wal` } : {}),
  };
}

/** A database URL with its password masked, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/@]+):[^@]*@/, '$1:***@');
}
