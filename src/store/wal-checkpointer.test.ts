import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from './store.js';
import { WalCheckpointer } from './wal-checkpointer.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tf-wal-checkpointer-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('WalCheckpointer', () => {
  it('copies the WAL into the database file from its worker thread', async () => {
    const file = join(dir, 'x.db');
    const db = new BetterSqlite3(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('wal_autocheckpoint = 0');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    const insert = db.prepare('INSERT INTO t (v) VALUES (?)');
    const ROWS = 300;
    for (let i = 0; i < ROWS; i++) insert.run(`row ${i}`);
    // Nothing checkpointed yet: a copy of the database file alone has no table.
    const before = join(dir, 'before.db');
    copyFileSync(file, before);
    const copy0 = new BetterSqlite3(before, { readonly: true });
    expect(copy0.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 't'").get()).toEqual({ n: 0 });
    copy0.close();

    const cp = new WalCheckpointer(file);
    const frames = await cp.checkpoint();
    expect(frames).toBeGreaterThanOrEqual(ROWS);
    expect(cp.stats).toMatchObject({ checkpoints: 1, frames });
    await cp.close();

    // The database file alone now holds every row.
    const after = join(dir, 'after.db');
    copyFileSync(file, after);
    const copy = new BetterSqlite3(after, { readonly: true });
    expect(copy.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: ROWS });
    copy.close();
    // And the writer starts the WAL over instead of growing it.
    const walSize = statSync(`${file}-wal`).size;
    for (let i = 0; i < 10; i++) insert.run(`more ${i}`);
    expect(statSync(`${file}-wal`).size).toBe(walSize);
    db.close();
  });

  it("a batched store defers SQLite's in-commit checkpoint to a far bound and closes its worker", async () => {
    const store = await openStore({ home: dir, sqliteSync: 'batched' });
    expect(store.connection.sqlite?.pragma('wal_autocheckpoint', { simple: true })).toBe(16_384);
    await store.kv.set('k', 1, 1);
    await store.close();
    const full = await openStore({ home: dir });
    // `full` keeps SQLite's default (every commit fsyncs on the path there anyway).
    expect(full.connection.sqlite?.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(full.durability).toEqual({ commit: 'fsync' });
    await full.close();
  });

  it('lets a process that closes its store at top level exit 0 (its worker keeps the loop alive while awaited)', () => {
    const storeModule = resolve(import.meta.dirname, 'store.ts');
    const script = `import { openStore } from ${JSON.stringify(storeModule)};
      const s = await openStore({ home: ${JSON.stringify(dir)}, sqliteSync: 'batched' });
      await s.kv.set('k', 1, 1);
      await s.close();`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
