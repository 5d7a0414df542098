import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../core/events.js';
import type { Fill } from '../core/fill.js';
import type { QueueOverflow } from '../core/queue-bound.js';
import { InProcessEventBus } from '../engine/event-bus.js';
import { BatchQueue } from './batch-queue.js';
import { openStore, type Store } from './store.js';

const homes: string[] = [];
const stores: Store[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

async function sqliteStore(): Promise<Store> {
  const home = mkdtempSync(join(tmpdir(), 'tf-bq-'));
  homes.push(home);
  const s = await openStore({ home });
  stores.push(s);
  return s;
}

const fill = (k: number): Fill => ({
  id: `f${k}`,
  orderId: `o${k}`,
  clientOrderId: `o${k}`,
  strategyId: 's',
  symbol: 'BTC/USDT',
  side: 'buy',
  price: 100 + k,
  quantity: 1,
  fee: 0.1,
  liquidity: 'taker',
  time: 1_000 + k,
  venueTradeId: `t${k}`,
  correlationId: `c${k}`,
});

const fillEvent = (k: number): DomainEvent<'fill.executed.v1'> => ({
  name: 'fill.executed.v1',
  time: 1_000 + k,
  correlationId: `c${k}`,
  source: 'test',
  payload: { fill: fill(k) },
});

describe('BatchQueue bounds', () => {
  it('halt: keeps every item past the bound, reports the crossing once, re-arms once written', async () => {
    const written: number[] = [];
    let open!: () => void;
    let gate = new Promise<void>((r) => {
      open = r;
    });
    const overflows: QueueOverflow[] = [];
    const q = new BatchQueue<number>(
      async (batch) => {
        await gate;
        written.push(...batch);
      },
      {
        flushMs: 1_000_000,
        maxBatch: 1_000_000,
        onError: () => {},
        name: 'persist',
        capacity: 3,
        onOverflow: (o) => overflows.push(o),
      },
    );
    for (let k = 0; k < 6; k++) q.push(k);
    expect(q.depth).toBe(6);
    expect(q.dropped).toBe(0);
    expect(overflows).toEqual([{ queue: 'persist', capacity: 3, depth: 4, policy: 'halt' }]);
    const flushed = q.flush();
    open();
    await flushed;
    expect(written).toEqual([0, 1, 2, 3, 4, 5]);
    gate = Promise.resolve();
    for (let k = 6; k < 10; k++) q.push(k);
    expect(overflows).toHaveLength(2);
    await q.flush();
    expect(written).toHaveLength(10);
  });

  it('drop_oldest: discards the oldest items past the bound and counts them', async () => {
    const written: number[] = [];
    const q = new BatchQueue<number>(async (batch) => void written.push(...batch), {
      flushMs: 1_000_000,
      maxBatch: 1_000_000,
      onError: () => {},
      capacity: 3,
      policy: 'drop_oldest',
    });
    for (let k = 0; k < 5; k++) q.push(k);
    expect(q.depth).toBe(3);
    expect(q.dropped).toBe(2);
    await q.flush();
    expect(written).toEqual([2, 3, 4]);
  });

  it('rejects a bound that is not a positive integer', () => {
    const make = (capacity: number) =>
      new BatchQueue<number>(async () => {}, { flushMs: 1, maxBatch: 1, onError: () => {}, name: 'x', capacity });
    expect(() => make(0)).toThrow('queue x: capacity must be a positive integer, got 0');
    expect(() => make(2.5)).toThrow(/positive integer/);
  });
});

describe('store subscribers past their bounds (SQLite)', () => {
  it('the event persister keeps every fill past its bound and reports the overflow', async () => {
    const store = await sqliteStore();
    const bus = new InProcessEventBus();
    const overflows: QueueOverflow[] = [];
    const p = store.persistEvents(bus, {
      capacity: 4,
      flushMs: 1_000_000,
      maxBatch: 1_000_000,
      onOverflow: (o) => overflows.push(o),
    });
    for (let k = 0; k < 9; k++) bus.publish(fillEvent(k));
    expect(p.gauge).toMatchObject({ queue: 'persist', capacity: 4, policy: 'halt', depth: 9, dropped: 0 });
    expect(overflows).toEqual([{ queue: 'persist', capacity: 4, depth: 5, policy: 'halt' }]);
    await p.flush();
    expect(await store.fills.list({ strategyId: 's' })).toHaveLength(9);
    expect(p.gauge.depth).toBe(0);
  });

  it('the audit subscriber keeps every record past its bound and reports the overflow', async () => {
    const store = await sqliteStore();
    store.audit.setKey(randomBytes(32));
    const bus = new InProcessEventBus();
    const overflows: QueueOverflow[] = [];
    const a = store.auditEvents(bus, {
      capacity: 2,
      flushMs: 1_000_000,
      maxBatch: 1_000_000,
      onOverflow: (o) => overflows.push(o),
    });
    for (let k = 0; k < 5; k++) bus.publish(fillEvent(k));
    expect(a.gauge).toMatchObject({ queue: 'audit', capacity: 2, policy: 'halt', depth: 5 });
    expect(overflows.map((o) => o.queue)).toEqual(['audit']);
    await a.flush();
    expect(a.gauge.depth).toBe(0);
    const rows = await store.db.selectFrom('audit_events').select('seq').execute();
    expect(rows).toHaveLength(5);
  });
});
