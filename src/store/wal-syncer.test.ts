import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore, type Store } from './store.js';

let dir: string;
const opened: Store[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tf-wal-syncer-'));
});
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(opts: Omit<Parameters<typeof openStore>[0], 'home'> = {}): Promise<Store> {
  const s = await openStore({ home: dir, ...opts });
  opened.push(s);
  return s;
}

async function synchronousPragma(s: Store): Promise<number> {
  const r = await sql<{ synchronous: number }>`PRAGMA synchronous`.execute(s.db);
  return r.rows[0].synchronous;
}

const syncs = (s: Store): number => (s.durability.commit === 'os' ? s.durability.syncs.syncs : -1);

// A failure detector for the background round, not a time budget.
async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('store commit durability', () => {
  it('full by default: every commit fsynced (synchronous = FULL), nothing left to sync', async () => {
    const s = await open();
    expect(await synchronousPragma(s)).toBe(2);
    expect(s.durability).toEqual({ commit: 'fsync' });
    await s.syncToDisk();
  });

  it('batched: commits go to the WAL (synchronous = NORMAL) and one fsync covers everything committed before it', async () => {
    // A window so long the timer never runs during the test: every fsync here is one the test asked for.
    const s = await open({ sqliteSync: 'batched', syncWindowMs: 3_600_000 });
    expect(await synchronousPragma(s)).toBe(1);
    expect(s.durability).toMatchObject({ commit: 'os', windowMs: 3_600_000 });
    const before = syncs(s);
    await s.kv.set('a', { v: 1 }, 1);
    await s.kv.set('b', { v: 2 }, 1);
    await s.syncToDisk();
    expect(syncs(s)).toBe(before + 1);
    // Nothing committed since: no fsync.
    await s.syncToDisk();
    expect(syncs(s)).toBe(before + 1);
    // A commit made while a round runs is covered by the time the second caller's promise resolves: nothing is left.
    await s.kv.set('c', { v: 3 }, 1);
    const first = s.syncToDisk();
    await s.kv.set('d', { v: 4 }, 1);
    await Promise.all([first, s.syncToDisk()]);
    const n = syncs(s);
    expect(n).toBeGreaterThanOrEqual(before + 2);
    await s.syncToDisk();
    expect(syncs(s)).toBe(n);
  });

  it('batched: the background round fsyncs a commit within its window without being asked', async () => {
    const s = await open({ sqliteSync: 'batched', syncWindowMs: 10 });
    await s.syncToDisk();
    const before = syncs(s);
    await s.kv.set('a', { v: 1 }, 1);
    await until('the background fsync', () => syncs(s) > before);
    expect(syncs(s)).toBeGreaterThan(before);
  });

  it('batched: closing the store fsyncs what is left', async () => {
    const s = await open({ sqliteSync: 'batched', syncWindowMs: 3_600_000 });
    await s.kv.set('a', { v: 1 }, 1);
    const stats = s.durability.commit === 'os' ? s.durability.syncs : undefined;
    const before = stats?.syncs ?? -1;
    await s.close();
    expect(stats?.syncs).toBe(before + 1);
  });
});
