import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';
import { openStore, type Store } from './store.js';

let dir: string;
let store: Store;
let reader: BetterSqlite3.Database;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tf-group-commit-'));
  store = await openStore({ home: dir });
  // A second connection: a row it sees is committed, not just written by the store's connection.
  reader = new BetterSqlite3(join(dir, 'tradeforge.db'), { readonly: true });
});
afterEach(async () => {
  reader.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const committed = (key: string): boolean => reader.prepare('SELECT 1 FROM kv WHERE key = ?').get(key) !== undefined;
const put = (key: string) => (repos: Parameters<Parameters<Store['transaction']>[0]>[0]) =>
  repos.kv.set(key, { v: key }, 1);

describe('GroupCommit', () => {
  it('commits writes queued in one turn together and resolves each caller only once its write is committed', async () => {
    const g = new GroupCommit(store);
    const keys = Array.from({ length: 20 }, (_, i) => `k${i}`);
    const seenAtResolve: boolean[] = [];
    await Promise.all(keys.map((k) => g.durable(put(k)).then(() => seenAtResolve.push(committed(k)))));
    expect(seenAtResolve).toEqual(keys.map(() => true));
    expect(g.stats).toEqual({ commits: 1, writes: 20 });
  });

  it('groups the writes that arrive while a commit runs into the next commit', async () => {
    const g = new GroupCommit(store);
    const first = g.durable(put('a'));
    // The first commit is running once the loop has taken its batch (after this turn).
    await Promise.resolve();
    await Promise.resolve();
    const more = ['b', 'c', 'd', 'e'].map((k) => g.durable(put(k)));
    await Promise.all([first, ...more]);
    expect(g.stats.writes).toBe(5);
    expect(g.stats.commits).toBeLessThanOrEqual(2);
    for (const k of ['a', 'b', 'c', 'd', 'e']) expect(committed(k)).toBe(true);
  });

  it('lets lazy writes ride with the next durable commit instead of committing on their own', async () => {
    const g = new GroupCommit(store, { lazyMs: 60_000 });
    g.lazy(put('lazy1'));
    g.lazy(put('lazy2'));
    expect(g.depth).toBe(2);
    expect(committed('lazy1')).toBe(false);
    await g.durable(put('wal'));
    expect(g.stats).toEqual({ commits: 1, writes: 3 });
    expect(committed('lazy1') && committed('lazy2')).toBe(true);
  });

  it('commits lazy writes alone after lazyMs', async () => {
    const g = new GroupCommit(store, { lazyMs: 1 });
    g.lazy(put('alone'));
    await new Promise<void>((resolve) => {
      const poll = () => (g.stats.commits > 0 ? resolve() : setImmediate(poll));
      poll();
    });
    expect(committed('alone')).toBe(true);
  });

  it('rejects the durable callers of a failed commit, reports it, and keeps committing later writes', async () => {
    const errors: unknown[] = [];
    const g = new GroupCommit(store, { onError: (e) => errors.push(e) });
    const bad = g.durable(async () => {
      throw new Error('disk full');
    });
    const sameBatch = g.durable(put('rolled-back'));
    await expect(bad).rejects.toThrow('disk full');
    await expect(sameBatch).rejects.toThrow('disk full');
    expect(committed('rolled-back')).toBe(false);
    expect(errors).toHaveLength(1);
    await g.durable(put('after'));
    expect(committed('after')).toBe(true);
  });
});
