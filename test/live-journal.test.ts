import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreJournal } from '../src/app/live/journal.js';
import { openStore, type Store } from '../src/store/index.js';
import type { Strategy } from '../src/strategy/types.js';
import { assembleDeployment } from './fixtures/runtime/kit.js';
import { MemoryVenue } from './fixtures/runtime/memory-venue.js';

// Both commit durabilities: `batched` is what the runtime opens (docs/live.md, "Durability of the journal").
describe.each(['full', 'batched'] as const)('live journal group commit, sqliteSync %s', (sqliteSync) => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tf-live-journal-'));
    store = await openStore({ home: dir, sqliteSync });
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never lets an order reach the venue before its write-ahead is committed, and groups the other writes', async () => {
    const venue = new MemoryVenue();
    // Every bar: buy when flat, sell when long.
    const flipper: Strategy = {
      onBar(ctx) {
        if (ctx.position() > 0) ctx.sell();
        else ctx.buy({ quantity: 0.001 });
      },
    };
    const d = await assembleDeployment(venue, flipper, { barMs: 1, staleAfterMs: 3_600_000, store });
    const journal = d.journal as StoreJournal;
    expect(journal).toBeInstanceOf(StoreJournal);
    // Another connection sees only committed rows.
    const reader = new BetterSqlite3(join(dir, 'tradeforge.db'), { readonly: true });
    const durableAtSend: boolean[] = [];
    venue.onPlace = (req) => {
      durableAtSend.push(reader.prepare('SELECT 1 FROM orders WHERE id = ?').get(req.clientOrderId) !== undefined);
    };
    d.bridge.start();
    d.feed.start();
    const ORDERS = 20;
    let fills = 0;
    let done: () => void = () => {};
    d.bus.subscribe('fill.executed.v1', () => {
      fills++;
      done();
    });
    let price = 100;
    for (let i = 0; i <= ORDERS; i++) {
      const filled = new Promise<void>((r) => {
        done = r;
      });
      price += 0.01;
      venue.pushTicker('BTC/USDT', price, 1_700_000_000_000 + i);
      if (i > 0) await filled;
    }
    d.feed.close();
    await d.bridge.drain();
    await journal.close();
    d.bridge.close();
    reader.close();
    expect(fills).toBe(ORDERS);
    expect(durableAtSend).toHaveLength(ORDERS);
    expect(durableAtSend.every(Boolean)).toBe(true);
    // Every order, its final state and every fill are stored.
    const orders = await store.orders.list({ strategyId: 'kit', limit: 1000 });
    expect(orders).toHaveLength(ORDERS);
    expect(orders.every((o) => o.status === 'filled')).toBe(true);
    expect(await store.fills.list({ strategyId: 'kit' })).toHaveLength(ORDERS);
    // Per order: a write-ahead, the venue id, a fill and state changes — fewer commits than writes.
    const { commits, writes } = journal.commitStats;
    expect(writes).toBeGreaterThanOrEqual(4 * ORDERS);
    expect(commits).toBeLessThan(writes);
  });
});
