/**
 * Store benchmark (SQLite, WAL, synchronous=FULL): what a subscriber costs the publisher (order path), batched
 * persistence throughput, write-ahead latency per order, and audit appends per second (single and batched).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Order } from '../src/core/order.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import { openStore } from '../src/store/index.js';

function order(i: number): Order {
  return {
    id: `o-${i}`,
    clientOrderId: `c-${i}`,
    strategyId: 'bench',
    symbol: 'BTC/USDT',
    side: 'buy',
    type: 'limit',
    quantity: 0.01,
    price: 30_000 + i,
    timeInForce: 'GTC',
    reduceOnly: false,
    status: 'submitted',
    filledQuantity: 0,
    averageFillPrice: 0,
    fees: 0,
    createdAt: i,
    updatedAt: i,
    source: 'strategy',
    correlationId: `k-${i}`,
  };
}

/** Runs the store benchmark and prints its figures. */
export default async function (): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'tf-bench-store-'));
  const store = await openStore({ home });
  try {
    const bus = new InProcessEventBus();
    const persister = store.persistEvents(bus, { flushMs: 25, maxBatch: 500 });
    const orders = Array.from({ length: 20_000 }, (_, i) => order(i));
    const t0 = performance.now();
    for (const o of orders)
      bus.publish({
        name: 'order.submitted.v1',
        time: o.createdAt,
        correlationId: o.correlationId,
        source: 'engine',
        payload: { order: o },
      });
    const publishMs = performance.now() - t0;
    await persister.flush();
    const totalMs = performance.now() - t0;
    process.stdout.write(
      `  publish with persister attached  ${((publishMs * 1000) / orders.length).toFixed(2)} µs/event (publisher's cost)\n`,
    );
    process.stdout.write(
      `  batched persistence              ${Math.round(orders.length / (totalMs / 1000))} orders/s (${orders.length} orders, ${totalMs.toFixed(0)} ms)\n`,
    );

    const n = 200;
    const t1 = performance.now();
    for (let i = 0; i < n; i++) await persister.persistOrderNow(order(100_000 + i));
    process.stdout.write(
      `  write-ahead persistOrderNow      ${((performance.now() - t1) / n).toFixed(2)} ms/order (fsync per commit)\n`,
    );

    store.audit.setKey(randomBytes(32));
    const t2 = performance.now();
    for (let i = 0; i < n; i++)
      await store.audit.append({ actor: 'bench', action: 'order.submitted', subject: `order:${i}`, details: { i } });
    process.stdout.write(
      `  audit append (one per commit)    ${Math.round(n / ((performance.now() - t2) / 1000))} records/s\n`,
    );
    const batch = Array.from({ length: 5000 }, (_, i) => ({
      actor: 'bench',
      action: 'fill.executed',
      subject: `order:${i}`,
      details: { i },
    }));
    const t3 = performance.now();
    for (let i = 0; i < batch.length; i += 500) await store.audit.appendMany(batch.slice(i, i + 500));
    process.stdout.write(
      `  audit append (batches of 500)    ${Math.round(batch.length / ((performance.now() - t3) / 1000))} records/s\n`,
    );
    const t4 = performance.now();
    const v = await store.audit.verify();
    process.stdout.write(
      `  audit verify                     ${v.checked} records in ${(performance.now() - t4).toFixed(0)} ms (ok=${v.ok})\n`,
    );
  } finally {
    await store.close();
    rmSync(home, { recursive: true, force: true });
  }
}
