import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Fill } from '../core/fill.js';
import type { Order } from '../core/order.js';
import { strategyStateToRow } from './repositories/runtime.js';
import { fillToRow, orderToRow } from './repositories/trading.js';
import { type JournalWrite, SqliteJournalWriter } from './sqlite-journal-writer.js';
import { openStore, type Store } from './store.js';

let dir: string;
let viaRepos: Store;
let viaWriter: Store;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tf-journal-writer-'));
  viaRepos = await openStore({ home: join(dir, 'repos') });
  viaWriter = await openStore({ home: join(dir, 'writer'), sqliteSync: 'batched' });
});
afterEach(async () => {
  await viaRepos.close();
  await viaWriter.close();
  rmSync(dir, { recursive: true, force: true });
});

const order = (over: Partial<Order>): Order => ({
  id: 'kit-1',
  clientOrderId: 'kit-1',
  strategyId: 'dep-a',
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
  createdAt: 1_700_000_000_000,
  updatedAt: 1_700_000_000_000,
  source: 'strategy',
  correlationId: 'c1',
  ...over,
});

const fill = (over: Partial<Fill>): Fill => ({
  id: 'kit-1:t1',
  orderId: 'kit-1',
  clientOrderId: 'kit-1',
  strategyId: 'dep-a',
  symbol: 'BTC/USDT',
  side: 'buy',
  price: 100.01,
  quantity: 0.001,
  fee: 0.0000001,
  liquidity: 'taker',
  time: 1_700_000_000_050,
  ...over,
});

// One journal's life: write-ahead, venue id, fill, an older snapshot arriving late, a tie, a duplicate fill, states.
const T = 1_700_000_000_000;
const writes: JournalWrite[] = [
  { table: 'orders', row: orderToRow(order({}), 'dep-a') },
  {
    table: 'orders',
    row: orderToRow(
      order({
        id: 'kit-2',
        clientOrderId: 'kit-2',
        type: 'stop_limit',
        side: 'sell',
        price: 99.5,
        stopPrice: 99.75,
        reduceOnly: true,
        signalTime: T - 60_000,
        tag: 'protective',
        source: 'exit',
        venueOrderId: 'v-2',
      }),
    ),
  },
  { table: 'orders', row: orderToRow(order({ status: 'submitted', updatedAt: T + 10 }), 'dep-a') },
  {
    table: 'orders',
    row: orderToRow(
      order({
        status: 'filled',
        venueOrderId: 'v-1',
        filledQuantity: 0.001,
        averageFillPrice: 100.01,
        updatedAt: T + 50,
      }),
      'dep-a',
    ),
  },
  // Older than the stored snapshot: ignored.
  { table: 'orders', row: orderToRow(order({ status: 'accepted', venueOrderId: 'v-1', updatedAt: T + 20 }), 'dep-a') },
  // Same updated_at: the later write wins on the mutable columns; immutable ones (symbol, quantity) stay.
  {
    table: 'orders',
    row: orderToRow(
      order({
        status: 'filled',
        venueOrderId: 'v-1',
        filledQuantity: 0.001,
        averageFillPrice: 100.01,
        fees: 0.0001,
        reason: 'note',
        symbol: 'ETH/USDT',
        quantity: 5,
        updatedAt: T + 50,
      }),
      'dep-a',
    ),
  },
  { table: 'fills', row: fillToRow(fill({ venueTradeId: 't1', correlationId: 'c1' })) },
  // The same fill again (a replayed trade, other figures): ignored, never doubled.
  { table: 'fills', row: fillToRow(fill({ venueTradeId: 't1', price: 1, quantity: 9 })) },
  { table: 'fills', row: fillToRow(fill({ id: 'kit-2:x', orderId: 'kit-2', clientOrderId: 'kit-2', side: 'sell' })) },
  { table: 'strategy_state', row: strategyStateToRow('dep-a', 'dep-a', { b: 1, a: [1, 2] }, T) },
  { table: 'strategy_state', row: strategyStateToRow('dep-a', 'dep-a', { z: { y: 2, x: 1 } }, T + 1) },
];

// Every column with its SQLite storage class, so an integer stored as real (or text) differs too.
function dump(store: Store, table: string, key: string): unknown[] {
  const sqlite = store.connection.sqlite;
  if (sqlite === undefined) throw new Error('not SQLite');
  const cols = (sqlite.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name);
  const typed = cols.map((c) => `typeof("${c}") AS "${c}__type"`).join(', ');
  return sqlite.prepare(`SELECT *, ${typed} FROM ${table} ORDER BY ${key}`).all();
}

describe('SqliteJournalWriter', () => {
  it('writes the same rows as the repositories, incl. the older-snapshot guard, a tie and a duplicate fill', async () => {
    for (const w of writes) {
      if (w.table === 'orders') await viaRepos.orders.upsertRows([w.row]);
      else if (w.table === 'fills') await viaRepos.fills.insertRows([w.row]);
      else await viaRepos.strategyState.save('dep-a', 'dep-a', JSON.parse(w.row.state), w.row.updated_at);
    }
    const writer = SqliteJournalWriter.of(viaWriter);
    expect(writer).toBeDefined();
    // Several writes in one commit, then one commit each: both give the repositories' rows.
    writer?.commit(writes.slice(0, 4));
    for (const w of writes.slice(4)) writer?.commit([w]);

    for (const [table, key] of [
      ['orders', 'id'],
      ['fills', 'id'],
      ['strategy_state', 'deployment_id'],
    ] as const) {
      expect(dump(viaWriter, table, key)).toEqual(dump(viaRepos, table, key));
    }
    // And the rows are what the guards promise (so both paths agreeing is not both being wrong).
    const o = await viaWriter.orders.get('kit-1');
    expect(o).toMatchObject({ status: 'filled', fees: 0.0001, reason: 'note', symbol: 'BTC/USDT', quantity: 0.001 });
    // Read back, a fill carries its stored text as its exact decimals.
    expect(await viaWriter.fills.byOrder('kit-1')).toEqual([
      {
        ...fill({ venueTradeId: 't1', correlationId: 'c1' }),
        exact: { price: '100.01', quantity: '0.001', fee: '0.0000001' },
      },
    ]);
    expect(await viaWriter.strategyState.load('dep-a', 'dep-a')).toEqual({
      state: { z: { x: 1, y: 2 } },
      updatedAt: T + 1,
    });
    expect(await viaWriter.orders.get('kit-2')).toEqual(
      order({
        id: 'kit-2',
        clientOrderId: 'kit-2',
        type: 'stop_limit',
        side: 'sell',
        price: 99.5,
        stopPrice: 99.75,
        reduceOnly: true,
        signalTime: T - 60_000,
        tag: 'protective',
        source: 'exit',
        venueOrderId: 'v-2',
        exact: {
          quantity: '0.001',
          price: '99.5',
          stopPrice: '99.75',
          filledQuantity: '0',
          averageFillPrice: '0',
          fees: '0',
        },
      }),
    );
  });

  it('commits all or nothing: a failing write rolls back the writes before it in the same commit', async () => {
    const writer = SqliteJournalWriter.of(viaWriter);
    // A fill whose order id is null breaks the NOT NULL constraint.
    const bad = {
      table: 'fills',
      row: { ...fillToRow(fill({ id: 'bad' })), order_id: null },
    } as unknown as JournalWrite;
    expect(() => writer?.commit([writes[0], bad])).toThrow(/NOT NULL/);
    expect(await viaWriter.orders.get('kit-1')).toBeUndefined();
    expect(writer?.ready).toBe(true);
  });

  it('is not ready while a Kysely transaction holds the shared connection, and refuses to join it', async () => {
    const writer = SqliteJournalWriter.of(viaWriter);
    let refused: unknown;
    await viaWriter.transaction(async (repos) => {
      await repos.kv.set('k', 1, 1);
      expect(writer?.ready).toBe(false);
      try {
        writer?.commit([writes[0]]);
      } catch (err) {
        refused = err;
      }
    });
    expect(String(refused)).toMatch(/transaction is open/);
    expect(await viaWriter.orders.get('kit-1')).toBeUndefined();
    expect(writer?.ready).toBe(true);
  });

  it('is one writer per database handle, and none on a store without a SQLite handle', () => {
    expect(SqliteJournalWriter.of(viaWriter)).toBe(SqliteJournalWriter.of(viaWriter));
    expect(SqliteJournalWriter.of(viaRepos)).not.toBe(SqliteJournalWriter.of(viaWriter));
    const { sqlite: _, ...pgLike } = viaWriter.connection;
    expect(SqliteJournalWriter.of({ db: viaWriter.db, connection: pgLike })).toBeUndefined();
  });
});
