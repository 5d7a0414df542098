/**
 * Startup reconciliation of an order whose fill was booked before a crash but whose order row was not (a user-data
 * stream delivers the fill ahead of the placement's answer): the booked quantity is net of the fee Binance takes in
 * the base asset, yet the order executed in full. It must be recorded filled with the venue's id and executed
 * quantity, not left open as "missing fills".
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { StoreJournal } from '../src/app/live/journal.js';
import { reconcileDeployment } from '../src/app/reconcile.js';
import type { Order } from '../src/core/order.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import { openStore, type Store } from '../src/store/index.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { LiveVenueBridge } from '../src/venues/live/bridge.js';
import { fillKey } from '../src/venues/live/client-order-id.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('records a filled order whose net-of-fee fill was booked before the crash', async () => {
  const sim: SimulatorHandle = await startSimulator({ seed: 21, tickIntervalMs: 0 });
  cleanups.push(() => sim.close());
  const home = mkdtempSync(join(tmpdir(), 'tf-rec-fee-'));
  cleanups.push(() => rmSync(home, { recursive: true, force: true }));
  const store: Store = await openStore({ home });
  cleanups.push(() => store.close());
  const venue = new CcxtVenue({
    exchange: 'binance',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
  });
  cleanups.push(() => venue.close());
  const instruments = (await venue.fetchInstruments()).filter((i) => i.symbol === 'BTC/USDT');
  const lot = instruments[0]!.lotSize;

  // The venue executed the order (the client never heard the answer); the fee was taken in BTC.
  const cid = 'rcfee-o1';
  const so = sim.state.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: 0.01 }, cid);
  expect(so.status).toBe('FILLED');
  const trade = so.fills[0]!;
  expect(so.fills).toHaveLength(1);
  expect(trade.commissionAsset).toBe('BTC');

  // The store as the crash left it: the write-ahead row, and the fill booked net of the fee in whole lots.
  let bridge!: LiveVenueBridge;
  const journal = new StoreJournal(
    store,
    'rcfee',
    (o) => bridge.clientOrderIdOf(o),
    (err) => {
      throw err;
    },
  );
  const t0 = so.time - 5;
  const order: Order = {
    id: cid,
    clientOrderId: cid,
    strategyId: 'rcfee',
    symbol: 'BTC/USDT',
    side: 'buy',
    type: 'market',
    quantity: 0.01,
    timeInForce: 'GTC',
    reduceOnly: false,
    status: 'submitted',
    filledQuantity: 0,
    averageFillPrice: 0,
    fees: 0,
    createdAt: t0,
    updatedAt: t0,
    source: 'strategy',
    correlationId: 'rcfee.1',
  };
  await journal.persistOrder(order, cid);
  const booked = Number((Math.floor((trade.qty - trade.commission) / lot + 1e-9) * lot).toFixed(12));
  expect(booked).toBeLessThan(so.executedQty);
  await journal.persistFill({
    id: `binance:${cid}:${trade.id}`,
    orderId: cid,
    clientOrderId: cid,
    strategyId: 'rcfee',
    symbol: 'BTC/USDT',
    side: 'buy',
    price: trade.price,
    quantity: booked,
    fee: (trade.qty - booked) * trade.price,
    liquidity: 'taker',
    time: trade.time,
    venueTradeId: String(trade.id),
    correlationId: 'rcfee.1',
  });
  await journal.close();

  // Restart: a new journal and bridge, then reconciliation.
  const journal2 = new StoreJournal(
    store,
    'rcfee',
    (o) => bridge.clientOrderIdOf(o),
    (err) => {
      throw err;
    },
  );
  cleanups.push(() => journal2.close());
  const bus = new InProcessEventBus();
  bridge = new LiveVenueBridge({
    venue,
    journal: journal2,
    clientIdPrefix: 'rcfee-',
    strategyId: 'rcfee',
    instruments,
    // As the runtime starts it: the fill keys already in the store.
    seenFillKeys: [fillKey(cid, String(trade.id))],
  });
  const rec = await reconcileDeployment({
    store,
    journal: journal2,
    deploymentId: 'rcfee',
    symbols: ['BTC/USDT'],
    venue,
    bridge,
    bus,
    unknownOrders: 'adopt',
    instruments,
  });
  await bridge.drain();
  await journal2.flush();
  expect(rec.checked).toBe(1);
  expect(rec.fillsApplied).toBe(0); // already booked: never twice
  const stored = await store.orders.get(cid);
  expect(stored).toMatchObject({ status: 'filled', venueOrderId: String(so.orderId) });
  expect(stored?.filledQuantity).toBeCloseTo(so.executedQty, 10);
  const fills = await store.fills.list({ strategyId: 'rcfee' });
  expect(fills.map((f) => f.venueTradeId)).toEqual([String(trade.id)]);
  bridge.close();
});
