/**
 * Exact money across the modules of the live path (docs/money.md): venue fills carrying float residue in their
 * doubles and their decimal text beside them go through the live bridge, the execution engine, the portfolio, the
 * store (SQLite, the runtime's journal) and the API with no float residue; partial fills sum exactly; a fill price
 * with more decimals than the tick is quantised to the nearest tick.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineInstrument } from '../src/core/instrument.js';
import type { Order } from '../src/core/order.js';
import type { VenueFill } from '../src/core/venue.js';
import type { Strategy } from '../src/strategy/types.js';
import { assembleDeployment } from './fixtures/runtime/kit.js';
import { MemoryVenue } from './fixtures/runtime/memory-venue.js';
import { waitFor } from './fixtures/wait.js';
import { type ApiFixture, call, login, type Session, startApiFixture } from './server-api-fixture.js';

let fx: ApiFixture;
let admin: Session;

beforeAll(async () => {
  fx = await startApiFixture({ loginsPerMinute: 1000 });
  admin = await login(fx, 'admin');
});
afterAll(async () => {
  await fx?.close();
});

const idle: Strategy = { onBar() {} };

/** A venue whose instrument trades in lots of 1e-8 on a tick of 0.01; resting orders are filled by the test. */
function satoshiVenue(): MemoryVenue {
  const venue = new MemoryVenue();
  venue.fetchInstruments = async () => [
    defineInstrument({ symbol: 'BTC/USDT', base: 'BTC', quote: 'USDT', tickSize: 0.01, lotSize: 1e-8 }),
  ];
  return venue;
}

function venueFill(order: Order, n: number, over: Partial<VenueFill>): VenueFill {
  return {
    venueTradeId: `t-${order.id}-${n}`,
    venueOrderId: order.venueOrderId ?? '',
    symbol: 'BTC/USDT',
    side: order.side,
    price: 0,
    quantity: 0,
    fee: 0,
    feeCurrency: 'USDT',
    liquidity: 'maker',
    // After the placement: the store keeps the newest snapshot of an order by its update time.
    time: Date.now() + n,
    ...over,
  };
}

describe('exact money from a venue fill to the API', () => {
  it('partial fills of 0.1 and a 1e-8 lot leave no float residue in the order, the book, the store or the API', async () => {
    const venue = satoshiVenue();
    const d = await assembleDeployment(venue, idle, { store: fx.store });
    d.bridge.start();
    const sent: string[] = [];
    venue.onPlace = (req) => sent.push(JSON.stringify(req.exact));

    // 0.1 + 0.2 is 0.30000000000000004 as a double; a buy limit of 100.009 goes down onto the tick.
    const buy = d.engine.exec.submit({
      strategyId: 'kit',
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      quantity: 0.1 + 0.2,
      price: 100.009,
    });
    await waitFor('the buy to rest on the venue', () => buy.venueOrderId !== undefined && buy.status === 'accepted');
    expect(sent[0]).toBe(JSON.stringify({ quantity: '0.3', price: '100' }));
    expect(buy.exact).toMatchObject({ quantity: '0.3', price: '100' });

    // Three partial fills of 0.1: the venue's text has more decimals than the tick (100.004999 goes to 100), the
    // doubles beside it carry residue; fees of 1e-8 each.
    for (let n = 1; n <= 3; n++) {
      venue.pushFill(
        venueFill(buy, n, {
          price: 100.004999 + 1e-13,
          quantity: n === 3 ? 0.30000000000000004 - 0.2 : 0.1,
          fee: 1e-8,
          exact: { price: '100.004999', quantity: '0.1', fee: '0.00000001' },
        }),
      );
    }
    await waitFor('the buy to fill', () => buy.status === 'filled');
    expect(buy.exact).toMatchObject({
      quantity: '0.3',
      filledQuantity: '0.3',
      averageFillPrice: '100',
      fees: '0.00000003',
    });
    expect(buy.filledQuantity).toBe(0.3);
    expect(buy.fees).toBe(3e-8);

    // A sell of one lot (1e-8) whose limit goes up onto the tick, filled at a price written with trailing zeros.
    const sell = d.engine.exec.submit({
      strategyId: 'kit',
      symbol: 'BTC/USDT',
      side: 'sell',
      type: 'limit',
      quantity: 1e-8,
      price: 100.011,
    });
    await waitFor('the sell to rest on the venue', () => sell.venueOrderId !== undefined && sell.status === 'accepted');
    expect(sell.exact).toMatchObject({ quantity: '0.00000001', price: '100.02' });
    venue.pushFill(
      venueFill(sell, 1, { price: 100.02, quantity: 1e-8, fee: 0, exact: { price: '100.0200', quantity: '1e-8' } }),
    );
    await waitFor('the sell to fill', () => sell.status === 'filled');

    // The portfolio: its exact ledger is the account, its doubles the nearest readings.
    const pf = d.engine.portfolio;
    const x = pf.exact;
    expect(x).not.toBeNull();
    expect(x?.qty[0].toFixed()).toBe('0.29999999');
    expect(x?.avg[0].toFixed()).toBe('100');
    // 1 000 000 − 0.3 × 100 − 3e-8 + 1e-8 × 100.02 (realised 1e-8 × 0.02).
    expect(x?.cash.toFixed()).toBe('999970.0000009702');
    expect(x?.realizedPnl.toFixed()).toBe('0.0000000002');
    expect(x?.feesPaid.toFixed()).toBe('0.00000003');
    expect(pf.qty[0]).toBe(0.29999999);
    expect(pf.cash).toBe(999970.0000009702);

    // The store (rows keyed by the client order id sent): written from the exact text, read back exact.
    const buyId = d.bridge.clientOrderIdOf(buy);
    const sellId = d.bridge.clientOrderIdOf(sell);
    await waitFor('the store to hold the filled orders', async () => {
      const [b, s] = [await fx.store.orders.get(buyId), await fx.store.orders.get(sellId)];
      return b?.status === 'filled' && s?.status === 'filled';
    });
    // The running Σ price × quantity is not a column: the average stands for it.
    expect((await fx.store.orders.get(buyId))?.exact).toEqual({ ...buy.exact, notional: undefined });
    const row = await fx.store.db
      .selectFrom('orders')
      .select(['quantity', 'price', 'filled_quantity', 'average_fill_price', 'fees'])
      .where('id', '=', buyId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({
      quantity: '0.3',
      price: '100',
      filled_quantity: '0.3',
      average_fill_price: '100',
      fees: '0.00000003',
    });
    const fills = await fx.store.db
      .selectFrom('fills')
      .select(['price', 'quantity', 'fee'])
      .where('strategy_id', '=', 'kit')
      .orderBy('time')
      .execute();
    expect(fills).toEqual([
      { price: '100', quantity: '0.1', fee: '0.00000001' },
      { price: '100', quantity: '0.1', fee: '0.00000001' },
      { price: '100', quantity: '0.1', fee: '0.00000001' },
      { price: '100.02', quantity: '0.00000001', fee: '0' },
    ]);

    // The API: the JSON numbers as before, the exact decimals beside them as strings.
    const r = await call(fx, 'GET', '/api/orders?status=all&limit=50', { headers: admin.headers });
    expect(r.status).toBe(200);
    const orders = r.json.orders as { id: string; quantity: number; exact?: Record<string, string> }[];
    const apiBuy = orders.find((o) => o.id === buyId);
    expect(apiBuy?.quantity).toBe(0.3);
    expect(apiBuy?.exact).toEqual({
      quantity: '0.3',
      price: '100',
      filledQuantity: '0.3',
      averageFillPrice: '100',
      fees: '0.00000003',
    });
    expect(orders.find((o) => o.id === sellId)?.exact?.filledQuantity).toBe('0.00000001');
    d.bridge.close();
  });
});
