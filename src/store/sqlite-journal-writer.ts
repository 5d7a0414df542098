import type BetterSqlite3 from 'better-sqlite3';
import type { CompiledQuery, Kysely } from 'kysely';
import { saveStrategyStateQuery } from './repositories/runtime.js';
import { insertFillsQuery, upsertOrdersQuery } from './repositories/trading.js';
import type { Database, FillsTable, OrdersTable, StrategyStateTable } from './schema.js';
import type { Repositories, Store } from './store.js';

/** One write of the live journal, as the row it writes (rows come from orderToRow, fillToRow, strategyStateToRow). */
export type JournalWrite =
  | { table: 'orders'; row: OrdersTable }
  | { table: 'fills'; row: FillsTable }
  | { table: 'strategy_state'; row: StrategyStateTable };

type JournalTable = JournalWrite['table'];

/** Applies a journal write through the repositories (the group commit's path: PostgreSQL, or SQLite while busy). */
export async function applyJournalWrite(repos: Repositories, w: JournalWrite): Promise<void> {
  if (w.table === 'orders') await repos.orders.upsertRows([w.row]);
  else if (w.table === 'fills') await repos.fills.insertRows([w.row]);
  else await repos.strategyState.saveRow(w.row);
}

/** A prepared statement and the row column each of its `?` parameters takes. */
interface Prepared {
  stmt: BetterSqlite3.Statement;
  columns: string[];
}

const writers = new WeakMap<BetterSqlite3.Database, SqliteJournalWriter>();

/**
 * The live journal's SQLite writes without Kysely on the order path: the repositories' own upsert/insert queries
 * (upsertOrdersQuery, insertFillsQuery, saveStrategyStateQuery — same SQL, same guards) compiled once, prepared once
 * on the raw better-sqlite3 handle, and run synchronously in one `BEGIN IMMEDIATE ... COMMIT`. In WAL mode a commit
 * has written its frames to the WAL file when it returns (in the OS: it survives kill -9); the fsync stays with the
 * store's WalSyncer (`sqliteSync: 'batched'`) or SQLite itself (`full`).
 */
export class SqliteJournalWriter {
  private readonly prepared = new Map<JournalTable, Prepared>();
  private readonly run: BetterSqlite3.Transaction<(writes: readonly JournalWrite[]) => void>;

  /** The store's writer (one per database handle, so statements are prepared once); undefined on PostgreSQL. */
  static of(store: Pick<Store, 'db' | 'connection'>): SqliteJournalWriter | undefined {
    const sqlite = store.connection.sqlite;
    if (sqlite === undefined) return undefined;
    let w = writers.get(sqlite);
    if (w === undefined) {
      w = new SqliteJournalWriter(store.db, sqlite);
      writers.set(sqlite, w);
    }
    return w;
  }

  constructor(
    private readonly db: Kysely<Database>,
    private readonly sqlite: BetterSqlite3.Database,
  ) {
    this.run = sqlite.transaction((writes: readonly JournalWrite[]) => {
      for (const w of writes) {
        const p = this.statementFor(w);
        const row = w.row as unknown as Record<string, unknown>;
        p.stmt.run(p.columns.map((c) => row[c]));
      }
    });
  }

  /**
   * Whether a commit can run now: the handle is open and no transaction is open on it. Kysely shares the handle, and
   * its transactions stay open across awaits; a write now would join (and share the fate of) that transaction.
   */
  get ready(): boolean {
    return this.sqlite.open && !this.sqlite.inTransaction;
  }

  /** Commits the writes, in order, in one immediate transaction; throws when not `ready` or when a write fails. */
  commit(writes: readonly JournalWrite[]): void {
    if (!this.ready) throw new Error('journal write while a transaction is open on the SQLite handle');
    this.run.immediate(writes);
  }

  // The table's query compiled with a row of sentinels, so each `?` maps back to the column whose value it takes.
  private statementFor(w: JournalWrite): Prepared {
    const known = this.prepared.get(w.table);
    if (known !== undefined) return known;
    const keys = Object.keys(w.row);
    const sentinel = Object.fromEntries(keys.map((k) => [k, `\u0000${k}`]));
    let q: CompiledQuery;
    if (w.table === 'orders') q = upsertOrdersQuery(this.db, [sentinel as unknown as OrdersTable]).compile();
    else if (w.table === 'fills') q = insertFillsQuery(this.db, [sentinel as unknown as FillsTable]).compile();
    else q = saveStrategyStateQuery(this.db, sentinel as unknown as StrategyStateTable).compile();
    const columns = q.parameters.map((p) => {
      if (typeof p !== 'string' || !p.startsWith('\u0000')) {
        throw new Error(`${w.table}: unexpected parameter in the compiled journal query`);
      }
      return p.slice(1);
    });
    const p = { stmt: this.sqlite.prepare(q.sql), columns };
    this.prepared.set(w.table, p);
    return p;
  }
}
