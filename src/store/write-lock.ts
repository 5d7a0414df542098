import { type Kysely, sql, type Transaction } from 'kysely';
import type { Connection } from './db.js';
import type { Database } from './schema.js';

// Arbitrary constant naming the audit writer's advisory lock in PostgreSQL.
const AUDIT_LOCK_KEY = 7_243_001;

/**
 * Runs `fn` in a transaction that holds the store's single-writer lock: `BEGIN IMMEDIATE` on SQLite (the write lock
 * is taken before the first read, so two processes cannot both read the same chain head) and a transaction-scoped
 * advisory lock on PostgreSQL. Used by the audit log so appends never fork the chain.
 */
export async function withWriterLock<T>(conn: Connection, fn: (tx: Kysely<Database>) => Promise<T>): Promise<T> {
  if (conn.dialect === 'postgres') {
    return conn.db.transaction().execute(async (tx: Transaction<Database>) => {
      await sql`SELECT pg_advisory_xact_lock(${AUDIT_LOCK_KEY})`.execute(tx);
      return fn(tx);
    });
  }
  return conn.db.connection().execute(async (c) => {
    await sql`BEGIN IMMEDIATE`.execute(c);
    try {
      const out = await fn(c);
      await sql`COMMIT`.execute(c);
      return out;
    } catch (err) {
      await sql`ROLLBACK`.execute(c).catch(() => {});
      throw err;
    }
  });
}
