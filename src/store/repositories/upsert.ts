import { type RawBuilder, sql } from 'kysely';

/**
 * The `SET col = excluded.col, ...` object of an upsert for the given columns, so repositories list each
 * table's mutable columns once. Column names come from the typed table interfaces, never from input.
 */
export function fromExcluded<Row>(columns: readonly (keyof Row & string)[]): { [K in keyof Row]?: RawBuilder<Row[K]> } {
  const set: { [K in keyof Row]?: RawBuilder<Row[K]> } = {};
  for (const c of columns) set[c] = sql.ref<Row[typeof c]>(`excluded.${c}`);
  return set;
}

/** Rows per multi-row INSERT: far below SQLite's and PostgreSQL's bound-parameter limits for our widest table. */
export const ROWS_PER_STATEMENT = 200;

/** Splits rows into statement-sized chunks. */
export function chunks<T>(rows: readonly T[], size = ROWS_PER_STATEMENT): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/**
 * Keeps one row per key, the one with the highest `updated_at` (ties: the later one), because PostgreSQL refuses an
 * upsert that touches the same row twice in one statement.
 */
export function latestByKey<Row extends { updated_at: number }>(rows: readonly Row[], key: (r: Row) => string): Row[] {
  if (rows.length < 2) return [...rows];
  const m = new Map<string, Row>();
  for (const r of rows) {
    const k = key(r);
    const prev = m.get(k);
    if (prev === undefined || r.updated_at >= prev.updated_at) m.set(k, r);
  }
  return [...m.values()];
}
