import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { StoreJournal } from '../src/app/live/journal.js';
import type { Order } from '../src/core/order.js';
import { GroupCommit, openStore, orderToRow, type Store } from '../src/store/index.js';

let dir: string;
let store: Store;
let reader: BetterSqlite3.Database;
const errors: unknown[] = [];
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tf-journal-fast-'));
  store = await openStore({ home: dir, sqliteSync: 'batched' });
  // A second connection sees only committed rows.
  reader = new BetterSqlite3(join(dir, 'tradeforge.db'), { readonly: true });
  errors.length = 0;
});
afterEach(async () => {
  reader.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

const T = 1_700_000_000_000;
const order = (id: string, over: Partial<Order> = {}): Order => ({
  id: 'o1',
  clientOrderId: id,
  strategyId: 'dep',
  symbol: 'BTC/USDT',
  side: 'buy',
  type: 'market',
  quantity: 0.001,
  timeInForce: 'GTC',
  reduceOnly: false,
  status: 'new',
  filledQuantity: 0,
  averageFillPrice: 0,
  fees: 0,
  createdAt: T,
  updatedAt: T,
  source: 'strategy',
  correlationId: 'c',
  ...over,
});
const statusOf = (id: string) =>
  (reader.prepare('SELECT status FROM orders WHERE id = ?').get(id) as { status: string } | undefined)?.status;
const stateOf = () =>
  (
    reader.prepare('SELECT state FROM strategy_state WHERE deployment_id = ?').get('dep') as
      | { state: string }
      | undefined
  )?.state;
const journalOf = () =>
  new StoreJournal(
    store,
    'dep',
    (o) => o.clientOrderId,
    (err) => errors.push(err),
  );

describe('StoreJournal on SQLite', () => {
  it('commits a write-ahead before persistOrder resolves, with the lazy writes queued before it in one commit', async () => {
    const journal = journalOf();
    journal.saveStrategyState('dep', { n: 1 }, T);
    expect(journal.depth).toBe(1);
    expect(stateOf()).toBeUndefined();
    const p = journal.persistOrder(order('dep-1'), 'dep-1');
    // Committed synchronously: visible to another connection before the caller's await returns.
    expect(statusOf('dep-1')).toBe('new');
    expect(stateOf()).toBe('{"n":1}');
    await p;
    expect(journal.commitStats).toEqual({ commits: 1, writes: 2 });
    expect(journal.depth).toBe(0);
    await journal.close();
    expect(errors).toEqual([]);
  });

  it('commits lazy writes on their own when no durable write comes', async () => {
    const journal = journalOf();
    journal.saveStrategyState('dep', { n: 2 }, T);
    await vi.waitFor(() => expect(stateOf()).toBe('{"n":2}'), { timeout: 30_000, interval: 5 });
    expect(journal.commitStats).toEqual({ commits: 1, writes: 1 });
    await journal.close();
  });

  it('goes through the group commit while a transaction holds the connection, and later writes never overtake it', async () => {
    const journal = journalOf();
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let txStarted!: () => void;
    const started = new Promise<void>((r) => {
      txStarted = r;
    });
    const tx = store.transaction(async (repos) => {
      await repos.kv.set('k', 1, 1);
      txStarted();
      await held;
    });
    await started;
    journal.saveStrategyState('dep', { n: 1 }, T);
    const inTx = journal.persistOrder(order('dep-1', { status: 'submitted', updatedAt: T + 1 }), 'dep-1');
    let resolved = false;
    void inTx.then(() => {
      resolved = true;
    });
    // The write waits for the transaction: nothing of it is committed, nor joined to the other transaction.
    expect(journal.depth).toBe(2);
    expect(statusOf('dep-1')).toBeUndefined();
    release();
    await tx;
    // Made after it: queued behind it.
    const later = journal.persistOrder(order('dep-1', { status: 'new', updatedAt: T + 1 }), 'dep-1');
    await inTx;
    expect(resolved).toBe(true);
    await later;
    // Same updated_at: the later write wins, as it was made last.
    expect(statusOf('dep-1')).toBe('new');
    expect(stateOf()).toBe('{"n":1}');
    // With the group commit idle again, the next write takes the fast path (one more commit, at once).
    const before = journal.commitStats.commits;
    const fast = journal.persistOrder(order('dep-1', { status: 'filled', updatedAt: T + 2 }), 'dep-1');
    expect(statusOf('dep-1')).toBe('filled');
    await fast;
    expect(journal.commitStats.commits).toBe(before + 1);
    await journal.close();
    expect(errors).toEqual([]);
  });

  it('queues behind writes the group commit holds while the connection is free, never overtaking them', async () => {
    const commits = new GroupCommit(store);
    const journal = new StoreJournal(
      store,
      'dep',
      (o) => o.clientOrderId,
      (err) => errors.push(err),
      commits,
    );
    // A write already in the (shared) group commit, not committed yet; the connection is free.
    const row = orderToRow(order('dep-1', { id: 'dep-1', status: 'submitted', updatedAt: T + 1 }), 'dep');
    commits.lazy((repos) => repos.orders.upsertRows([row]));
    expect(store.connection.sqlite?.inTransaction).toBe(false);
    // Made after it, same updated_at: it must land last and win.
    const p = journal.persistOrder(order('dep-1', { status: 'new', updatedAt: T + 1 }), 'dep-1');
    expect(statusOf('dep-1')).toBeUndefined();
    await p;
    expect(statusOf('dep-1')).toBe('new');
    await journal.close();
    expect(errors).toEqual([]);
  });

  it('rejects the write-ahead and reports it when its commit fails (the order is not sent)', async () => {
    const journal = journalOf();
    // SQLite refuses this one order inside the transaction.
    store.connection.sqlite?.exec(
      "CREATE TRIGGER refuse BEFORE INSERT ON orders WHEN NEW.id = 'dep-9' BEGIN SELECT RAISE(ABORT, 'refused'); END",
    );
    journal.saveStrategyState('dep', { n: 1 }, T);
    await expect(journal.persistOrder(order('dep-9'), 'dep-9')).rejects.toThrow(/refused/);
    expect(errors).toHaveLength(1);
    // All or nothing: the lazy write of the same commit is not half-written either.
    expect(statusOf('dep-9')).toBeUndefined();
    expect(stateOf()).toBeUndefined();
    // A bad amount is refused before any commit, as a rejection too.
    await expect(journal.persistOrder(order('dep-8', { quantity: Number.NaN }), 'dep-8')).rejects.toThrow(/non-finite/);
    // The journal keeps working.
    await journal.persistOrder(order('dep-7'), 'dep-7');
    expect(statusOf('dep-7')).toBe('new');
    await journal.close();
  });
});
