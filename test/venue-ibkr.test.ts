/** The IBKR adapter (real @stoqey/ib client) against the fake TWS on loopback, over the real wire protocol. */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildVenues } from '../src/app/venues.js';
import { resolveConfig } from '../src/core/config.js';
import { VenueError, type VenueFill, type VenueOrder } from '../src/core/index.js';
import {
  FAKE_TWS_CONTRACTS,
  type FakeTwsHandle,
  fakeTwsHoursClosed,
  startFakeTws,
} from '../src/venues/ibkr/fake-tws.js';
import { placeOrderSafely } from '../src/venues/resilience.js';
import { type IbkrConnectionState, IbkrVenue, type IbkrVenueOptions } from '../src/venues/ibkr/ibkr-venue.js';

const AAPL = 265598;
const EURUSD = 12087792;
let seq = 0;
const cid = (tag: string) => `ib-${tag}-${process.pid}-${seq++}`;

// Polls `check` on the event loop until it holds; the hang guard only bounds a broken run.
async function until(check: () => boolean, what: string, guardMs = 10_000): Promise<void> {
  const stop = Date.now() + guardMs;
  while (!check()) {
    if (Date.now() > stop) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

function nextState(venue: IbkrVenue, want: IbkrConnectionState): Promise<void> {
  return new Promise((resolve) => {
    const sub = venue.onConnectionState((s) => {
      if (s === want) {
        sub.close();
        resolve();
      }
    });
  });
}

describe('IBKR adapter on the fake TWS', () => {
  let tws: FakeTwsHandle;
  let venue: IbkrVenue;
  const notices: { message: string; code: number }[] = [];
  const extra: IbkrVenue[] = [];
  let marketOrderId = '';

  const make = (o: Partial<IbkrVenueOptions> = {}) =>
    new IbkrVenue({
      host: tws.host,
      port: tws.port,
      clientId: 7,
      symbols: ['AAPL/USD', 'EUR/USD'],
      reconnectDelayMs: 20,
      requestTimeoutMs: 5_000,
      onNotice: (message, code) => notices.push({ message, code }),
      ...o,
    });

  beforeAll(async () => {
    tws = await startFakeTws({ firstOrderId: 1000, cash: 100_000 });
    venue = make();
    await venue.connect();
  });

  afterEach(() => {
    // The client library reports messages it cannot decode as code 505: the fake must speak the protocol exactly.
    expect(notices.filter((n) => n.code === 505 || /decod|underrun|unprocessed/i.test(n.message))).toEqual([]);
  });

  afterAll(async () => {
    for (const v of extra) await v.close();
    await venue?.close();
    await tws?.close();
  });

  it('connects, starts the API with its client id and numbers orders from the next valid id', async () => {
    const start = tws.received.find((m) => m.msgId === 71);
    expect(start?.tokens[2]).toBe('7');
    expect(notices.some((n) => n.code === 2104)).toBe(true);
    const clientOrderId = cid('first');
    const o = await venue.placeOrder({
      clientOrderId,
      symbol: 'AAPL/USD',
      side: 'buy',
      type: 'limit',
      quantity: 1,
      price: 100,
    });
    expect(o.venueOrderId).toBe('1000');
    expect(tws.order(1000)?.orderRef).toBe(clientOrderId);
    expect(tws.order(1000)?.lmtPrice).toBe(100);
    await venue.cancelOrder({ symbol: 'AAPL/USD', clientOrderId });
  });

  it('resolves stocks on SMART in USD and forex on IDEALPRO', async () => {
    const insts = await venue.fetchInstruments();
    const aapl = insts.find((i) => i.symbol === 'AAPL/USD');
    const eur = insts.find((i) => i.symbol === 'EUR/USD');
    expect(aapl).toMatchObject({ kind: 'stock', tickSize: 0.01, base: 'AAPL', quote: 'USD' });
    expect(eur).toMatchObject({ kind: 'forex', tickSize: 0.00005, base: 'EUR', quote: 'USD' });
    const lookups = tws.received.filter((m) => m.msgId === 9).map((m) => [m.tokens[4], m.tokens[5], m.tokens[10]]);
    expect(lookups).toContainEqual(['AAPL', 'STK', 'SMART']);
    expect(lookups).toContainEqual(['EUR', 'CASH', 'IDEALPRO']);
  });

  it('knows the trading hours of a stock and a forex pair from their contract details', async () => {
    // AAPL: regular 09:30-16:00 US/Eastern (EST in December), extended 04:00-20:00; EUR.USD 17:15-17:00 EST5EDT.
    const hours = await startFakeTws({
      contracts: FAKE_TWS_CONTRACTS.map((c) =>
        c.secType === 'STK'
          ? { ...c, liquidHours: '20261202:0930-20261202:1600', tradingHours: '20261202:0400-20261202:2000' }
          : { ...c, liquidHours: '20261201:1715-20261202:1700', tradingHours: '20261201:1715-20261202:1700' },
      ),
    });
    const v = new IbkrVenue({ host: hours.host, port: hours.port, clientId: 1 });
    try {
      await v.connect();
      expect(await v.isMarketOpen('AAPL/USD', Date.UTC(2026, 11, 2, 14, 30))).toBe(true);
      expect(await v.isMarketOpen('AAPL/USD', Date.UTC(2026, 11, 2, 14, 29))).toBe(false);
      expect(await v.isMarketOpen('AAPL/USD', Date.UTC(2026, 11, 2, 10, 0), true)).toBe(true);
      expect(await v.isMarketOpen('AAPL/USD', Date.UTC(2026, 11, 2, 21, 0))).toBe(false);
      expect(await v.isMarketOpen('EUR/USD', Date.UTC(2026, 11, 2, 3, 0))).toBe(true);
      // The sessions come from contract details read again once they are an hour old (IB lists a few days ahead).
      const lookups = () => hours.received.filter((m) => m.msgId === 9 && m.tokens[4] === 'AAPL').length;
      const before = lookups();
      await v.isMarketOpen('AAPL/USD');
      expect(lookups()).toBe(before);
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() + 61 * 60_000 });
      try {
        await v.isMarketOpen('AAPL/USD');
      } finally {
        vi.useRealTimers();
      }
      expect(lookups()).toBe(before + 1);
    } finally {
      await v.close();
      await hours.close();
    }
  });

  it('refuses a market order outside regular trading hours and lets a limit order wait for the open', async () => {
    const closed = await startFakeTws({
      contracts: FAKE_TWS_CONTRACTS.map((c) => ({ ...c, liquidHours: fakeTwsHoursClosed(Date.now()) })),
    });
    const v = new IbkrVenue({ host: closed.host, port: closed.port, clientId: 1 });
    try {
      await v.connect();
      const clientOrderId = cid('shut');
      const err = await v
        .placeOrder({ clientOrderId, symbol: 'AAPL/USD', side: 'buy', type: 'market', quantity: 1 })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VenueError);
      expect((err as VenueError).code).toBe('VENUE_MARKET_CLOSED');
      expect((err as VenueError).retryable).toBe(false);
      expect((err as Error).message).toMatch(/AAPL\/USD is outside its regular trading hours/);
      expect(closed.received.filter((m) => m.msgId === 3)).toEqual([]);
      expect(await v.fetchOrder({ symbol: 'AAPL/USD', clientOrderId })).toBeNull();
      const bracket = await v
        .placeBracket(
          { clientOrderId: cid('shutb'), symbol: 'AAPL/USD', side: 'buy', type: 'market', quantity: 1 },
          { stopPrice: 180, takeProfitPrice: 200 },
        )
        .catch((e: unknown) => e);
      expect((bracket as VenueError).code).toBe('VENUE_MARKET_CLOSED');
      const limit = await v.placeOrder({
        clientOrderId: cid('shutl'),
        symbol: 'AAPL/USD',
        side: 'buy',
        type: 'limit',
        quantity: 1,
        price: 150,
      });
      expect(limit.status).toBe('accepted');
      expect(closed.received.filter((m) => m.msgId === 3)).toHaveLength(1);
    } finally {
      await v.close();
      await closed.close();
    }
  });

  it('fills a market order and reports the fill with its commission', async () => {
    const fills: VenueFill[] = [];
    const sub = venue.watchFills((f) => fills.push(f));
    const cashBefore = tws.cash();
    marketOrderId = cid('mkt');
    const o = await venue.placeOrder({
      clientOrderId: marketOrderId,
      symbol: 'AAPL/USD',
      side: 'buy',
      type: 'market',
      quantity: 300,
    });
    expect(o.status).toBe('filled');
    expect(o.filledQuantity).toBe(300);
    expect(o.averagePrice).toBe(190);
    await until(() => fills.some((f) => f.venueOrderId === o.venueOrderId), 'the fill');
    sub.close();
    const mine = fills.filter((f) => f.venueOrderId === o.venueOrderId);
    expect(mine).toHaveLength(1);
    // IB fixed pricing: 300 shares x USD 0.005 = USD 1.50 (above the USD 1 minimum).
    expect(mine[0]).toMatchObject({ side: 'buy', quantity: 300, price: 190, fee: 1.5, feeCurrency: 'USD' });
    expect(mine[0].clientOrderId).toBe(o.clientOrderId);
    expect(cashBefore - tws.cash()).toBeCloseTo(300 * 190 + 1.5, 6);
    const listed = (await venue.fetchFills('AAPL/USD')).filter((f) => f.venueOrderId === o.venueOrderId);
    expect(listed.map((f) => f.fee)).toEqual([1.5]);
  });

  it('fills a forex market order on IDEALPRO with the forex commission', async () => {
    const o = await venue.placeOrder({
      clientOrderId: cid('fx'),
      symbol: 'EUR/USD',
      side: 'buy',
      type: 'market',
      quantity: 20_000,
    });
    expect(o.status).toBe('filled');
    const placed = tws.received.filter((m) => m.msgId === 3).at(-1);
    expect([placed?.tokens[5], placed?.tokens[10], placed?.tokens[17], placed?.tokens[19]]).toEqual([
      'CASH',
      'IDEALPRO',
      'BUY',
      'MKT',
    ]);
    await until(() => tws.executions.some((e) => String(e.order.orderId) === o.venueOrderId), 'the execution');
    const fill = (await venue.fetchFills('EUR/USD')).find((f) => f.venueOrderId === o.venueOrderId);
    // 0.2 bp of USD 22,000 is USD 0.44, under the USD 2 minimum.
    expect(fill?.fee).toBe(2);
  });

  it('rests a limit order, lists it, modifies it and cancels it', async () => {
    const clientOrderId = cid('lim');
    const o = await venue.placeOrder({
      clientOrderId,
      symbol: 'AAPL/USD',
      side: 'buy',
      type: 'limit',
      quantity: 5,
      price: 150,
      timeInForce: 'GTC',
    });
    expect(o.status).toBe('accepted');
    expect(tws.order(o.venueOrderId)?.status).toBe('Submitted');
    expect((await venue.fetchOpenOrders('AAPL/USD')).map((x) => x.clientOrderId)).toContain(clientOrderId);
    // The new limit is exact text: a buy's goes down onto the tick (151.009 is 151.00, never 151.01).
    const moved = await venue.modifyOrder({ symbol: 'AAPL/USD', clientOrderId }, { price: '151.009' });
    expect(moved.price).toBe(151);
    expect(tws.order(o.venueOrderId)?.lmtPrice).toBe(151);
    // A text that is not a decimal is refused before anything reaches TWS, with one line naming the field.
    const bad = await venue
      .modifyOrder({ symbol: 'AAPL/USD', clientOrderId }, { price: '151,5' })
      .catch((e: unknown) => e as VenueError);
    expect(bad).toMatchObject({ code: 'VENUE_INVALID_ORDER', retryable: false });
    expect((bad as Error).message).toMatch(/modifyOrder price: "151,5" is not a decimal number$/);
    expect(tws.order(o.venueOrderId)?.lmtPrice).toBe(151);
    const c = await venue.cancelOrder({ symbol: 'AAPL/USD', venueOrderId: o.venueOrderId });
    expect(c.status).toBe('cancelled');
    expect(tws.order(o.venueOrderId)?.status).toBe('Cancelled');
    expect((await venue.fetchOpenOrders()).map((x) => x.venueOrderId)).not.toContain(o.venueOrderId);
    expect((await venue.fetchOrder({ symbol: 'AAPL/USD', clientOrderId }))?.status).toBe('cancelled');
  });

  it('returns the existing order for a repeated client order id instead of placing twice', async () => {
    const req = {
      clientOrderId: cid('dup'),
      symbol: 'AAPL/USD',
      side: 'buy' as const,
      type: 'limit' as const,
      quantity: 2,
      price: 120,
    };
    const placesBefore = tws.received.filter((m) => m.msgId === 3).length;
    const a = await venue.placeOrder(req);
    const b = await venue.placeOrder(req);
    expect(b.venueOrderId).toBe(a.venueOrderId);
    expect(tws.received.filter((m) => m.msgId === 3).length).toBe(placesBefore + 1);
    await venue.cancelOrder({ symbol: 'AAPL/USD', clientOrderId: req.clientOrderId });
  });

  it('places a bracket: children wait for the entry, the take-profit fills and cancels the stop', async () => {
    const orders: VenueOrder[] = [];
    const sub = venue.watchOrders((o) => orders.push(o));
    const b = await venue.placeBracket(
      { clientOrderId: cid('br'), symbol: 'AAPL/USD', side: 'buy', type: 'market', quantity: 10 },
      { stopPrice: 180, takeProfitPrice: 200 },
    );
    expect(b.entry).toMatchObject({ status: 'filled', filledQuantity: 10 });
    expect(b.stop).toMatchObject({ side: 'sell', type: 'stop', stopPrice: 180, status: 'accepted' });
    expect(b.takeProfit).toMatchObject({ side: 'sell', type: 'limit', price: 200, status: 'accepted' });
    const sent = tws.received.filter((m) => m.msgId === 3).slice(-3);
    // transmit and parent id: entry held, take-profit held under the entry, the stop transmits the group.
    expect(sent.map((m) => [m.tokens[2], m.tokens[28], m.tokens[29]])).toEqual([
      [b.entry.venueOrderId, '0', ''],
      [b.takeProfit.venueOrderId, '0', b.entry.venueOrderId],
      [b.stop.venueOrderId, '1', b.entry.venueOrderId],
    ]);
    expect(tws.order(b.stop.venueOrderId, 7)?.status).toBe('Submitted');
    tws.setPrice('AAPL', 201);
    const final = (id: string, status: string) => orders.some((o) => o.venueOrderId === id && o.status === status);
    await until(
      () => final(b.takeProfit.venueOrderId, 'filled') && final(b.stop.venueOrderId, 'cancelled'),
      'the exit',
    );
    sub.close();
    tws.setPrice('AAPL', 190);
    await expect(
      venue.placeBracket(
        { clientOrderId: cid('bad'), symbol: 'AAPL/USD', side: 'buy', type: 'limit', quantity: 1, price: 190 },
        { stopPrice: 195, takeProfitPrice: 200 },
      ),
    ).rejects.toThrow(/stop must be on the losing side/);
  });

  it('rejects cancelling an unknown order and answers a filled one with its fill', async () => {
    const err = await venue.cancelOrder({ symbol: 'AAPL/USD', clientOrderId: 'never-placed' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VenueError);
    expect((err as VenueError).code).toBe('VENUE_ORDER_NOT_FOUND');
    expect((err as VenueError).retryable).toBe(false);
    const filled = await venue.placeOrder({
      clientOrderId: cid('cf'),
      symbol: 'AAPL/USD',
      side: 'buy',
      type: 'market',
      quantity: 1,
    });
    expect((await venue.cancelOrder({ symbol: 'AAPL/USD', venueOrderId: filled.venueOrderId })).status).toBe('filled');
  });

  it('rejects an order the margin cannot carry with a non-retryable VenueError and records nothing', async () => {
    const clientOrderId = cid('poor');
    const err = await venue
      .placeOrder({ clientOrderId, symbol: 'AAPL/USD', side: 'buy', type: 'limit', quantity: 10_000, price: 150 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VenueError);
    expect((err as VenueError).code).toBe('VENUE_INSUFFICIENT_FUNDS');
    expect((err as VenueError).retryable).toBe(false);
    expect(await venue.fetchOrder({ symbol: 'AAPL/USD', clientOrderId })).toBeNull();
  });

  it('keeps a native stop order at TWS and reports its fill when the price crosses it', async () => {
    const orders: VenueOrder[] = [];
    const sub = venue.watchOrders((o) => orders.push(o));
    const stop = await venue.placeOrder({
      clientOrderId: cid('stp'),
      symbol: 'AAPL/USD',
      side: 'sell',
      type: 'stop',
      quantity: 1,
      stopPrice: 180,
    });
    expect(stop).toMatchObject({ status: 'accepted', type: 'stop', stopPrice: 180 });
    expect(tws.order(stop.venueOrderId)).toMatchObject({ orderType: 'STP', auxPrice: 180 });
    tws.setPrice('AAPL', 179);
    await until(
      () => orders.some((o) => o.venueOrderId === stop.venueOrderId && o.status === 'filled'),
      'the stop fill',
    );
    sub.close();
    tws.setPrice('AAPL', 190);
  });

  it('reads positions and account values (balance and free margin) as TWS reports them', async () => {
    const positions = await venue.fetchPositions();
    const aapl = positions.find((p) => p.symbol === 'AAPL/USD');
    const eur = positions.find((p) => p.symbol === 'EUR/USD');
    expect(aapl?.quantity).toBe(tws.positionOf(AAPL));
    expect(eur?.quantity).toBe(20_000);
    expect(eur?.averagePrice).toBeCloseTo(1.1, 10);
    const values = await venue.fetchAccountValues();
    expect(values.account).toBe(tws.account);
    expect(values.currency).toBe('USD');
    expect(values.totalCash).toBeCloseTo(tws.cash(), 2);
    const marketValue = tws.positionOf(AAPL) * 190 + tws.positionOf(EURUSD) * 1.1;
    const margin = tws.positionOf(AAPL) * 190 * 0.25 + tws.positionOf(EURUSD) * 1.1 * 0.03;
    expect(values.netLiquidation).toBeCloseTo(tws.cash() + marketValue, 2);
    expect(values.availableFunds).toBeCloseTo(tws.cash() + marketValue - margin, 2);
    const [usd] = await venue.fetchBalances();
    expect(usd.asset).toBe('USD');
    expect(usd.total).toBeCloseTo(values.netLiquidation, 6);
    expect(usd.free).toBeCloseTo(values.availableFunds, 6);
    expect(usd.free + usd.used).toBeCloseTo(usd.total, 6);
    // Every summary subscription is cancelled again (TWS allows only a few at a time).
    const opened = tws.received.filter((m) => m.msgId === 62).length;
    expect(opened).toBeGreaterThanOrEqual(2);
    await until(() => tws.received.filter((m) => m.msgId === 63).length === opened, 'the summary cancels');
  });

  it('reconnects after a dropped connection and re-reads orders and executions it missed', async () => {
    const clientOrderId = cid('away');
    const resting = await venue.placeOrder({
      clientOrderId,
      symbol: 'AAPL/USD',
      side: 'buy',
      type: 'limit',
      quantity: 10,
      price: 185,
    });
    const fills: VenueFill[] = [];
    const orders: VenueOrder[] = [];
    const subF = venue.watchFills((f) => fills.push(f));
    const subO = venue.watchOrders((o) => orders.push(o));
    const down = nextState(venue, 'disconnected');
    tws.refuseConnections(true);
    tws.dropConnections();
    await down;
    expect(venue.isConnected).toBe(false);
    // While away, nothing is sent and the caller may retry.
    const offId = cid('off');
    const err = await venue
      .placeOrder({ clientOrderId: offId, symbol: 'AAPL/USD', side: 'buy', type: 'market', quantity: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VenueError);
    expect((err as VenueError).retryable).toBe(true);
    expect(await venue.fetchOrder({ symbol: 'AAPL/USD', clientOrderId: offId })).toBeNull();
    // The resting order fills at TWS while we are disconnected.
    tws.setPrice('AAPL', 184);
    expect(tws.order(resting.venueOrderId)?.status).toBe('Filled');
    const up = nextState(venue, 'connected');
    tws.refuseConnections(false);
    await up;
    const now = await venue.fetchOrder({ symbol: 'AAPL/USD', clientOrderId });
    expect(now).toMatchObject({ status: 'filled', filledQuantity: 10, averagePrice: 185 });
    expect(orders.some((o) => o.clientOrderId === clientOrderId && o.status === 'filled')).toBe(true);
    const missed = fills.filter((f) => f.venueOrderId === resting.venueOrderId);
    expect(missed).toHaveLength(1);
    expect(missed[0]).toMatchObject({ quantity: 10, price: 185, fee: 1 });
    subF.close();
    subO.close();
    tws.setPrice('AAPL', 190);
    // The session works again.
    expect((await venue.fetchPositions()).find((p) => p.symbol === 'AAPL/USD')?.quantity).toBe(tws.positionOf(AAPL));
  });

  it('re-reads orders and executions when TWS reports its connection to IB restored (1102)', async () => {
    const clientOrderId = cid('farm');
    const o = await venue.placeOrder({
      clientOrderId,
      symbol: 'AAPL/USD',
      side: 'buy',
      type: 'limit',
      quantity: 4,
      price: 186,
    });
    const fills: VenueFill[] = [];
    const sub = venue.watchFills((f) => fills.push(f));
    // Filled at IB while TWS was cut off from IB's servers: no message reached us.
    tws.setPrice('AAPL', 185, { silent: true });
    expect(tws.order(o.venueOrderId)?.status).toBe('Filled');
    expect((await venue.fetchOrder({ symbol: 'AAPL/USD', clientOrderId }))?.status).toBe('accepted');
    tws.notice(1102, 'Connectivity between IB and Trader Workstation has been restored - data maintained.');
    await until(() => fills.some((f) => f.venueOrderId === o.venueOrderId), 'the re-read fill');
    sub.close();
    expect((await venue.fetchOrder({ symbol: 'AAPL/USD', clientOrderId }))?.status).toBe('filled');
    expect(fills.filter((f) => f.venueOrderId === o.venueOrderId)).toMatchObject([{ quantity: 4, price: 186, fee: 1 }]);
    tws.setPrice('AAPL', 190);
  });

  it('returns a market order still working when the market is closed, and reports its fill later', async () => {
    const quick = make({ clientId: 11, marketFillWaitMs: 50 });
    extra.push(quick);
    await quick.connect();
    tws.setMarketOpen(false);
    const orders: VenueOrder[] = [];
    const sub = quick.watchOrders((x) => orders.push(x));
    try {
      const o = await quick.placeOrder({
        clientOrderId: cid('closed'),
        symbol: 'AAPL/USD',
        side: 'buy',
        type: 'market',
        quantity: 1,
      });
      expect(o.status).toBe('accepted');
      expect(o.filledQuantity).toBe(0);
      tws.setMarketOpen(true);
      tws.setPrice('AAPL', 190);
      await until(() => orders.some((x) => x.venueOrderId === o.venueOrderId && x.status === 'filled'), 'the fill');
    } finally {
      tws.setMarketOpen(true);
      sub.close();
    }
  });

  it('a fresh adapter (process restart) finds working orders and executions by client order id', async () => {
    const clientOrderId = cid('restart');
    const o = await venue.placeOrder({
      clientOrderId,
      symbol: 'AAPL/USD',
      side: 'sell',
      type: 'limit',
      quantity: 1,
      price: 250,
    });
    // The restarted process connects with the same client id once the old connection is gone.
    await venue.close();
    const fresh = make();
    venue = fresh;
    await fresh.connect();
    expect((await fresh.fetchOrder({ symbol: 'AAPL/USD', clientOrderId }))?.venueOrderId).toBe(o.venueOrderId);
    expect((await fresh.fetchOpenOrders('AAPL/USD')).map((x) => x.clientOrderId)).toContain(clientOrderId);
    const fills = await fresh.fetchFills('AAPL/USD');
    // Its own client's executions only (client 11 traded AAPL too).
    expect(fills.length).toBe(
      tws.executions.filter((e) => e.order.contract.conId === AAPL && e.order.clientId === 7).length,
    );
    expect(tws.executions.some((e) => e.order.clientId !== 7)).toBe(true);
    expect(fills.every((f) => f.fee >= 1)).toBe(true);
    // A filled order of the previous session is known by its client order id, so nothing places it again.
    const old = await fresh.fetchOrder({ symbol: 'AAPL/USD', clientOrderId: marketOrderId });
    expect(old).toMatchObject({ status: 'filled', filledQuantity: 300, averagePrice: 190, side: 'buy' });
    const again = await placeOrderSafely(
      fresh,
      { clientOrderId: marketOrderId, symbol: 'AAPL/USD', side: 'buy', type: 'market', quantity: 300 },
      { settleMs: 10, baseMs: 5 },
    );
    expect(again.venueOrderId).toBe(old?.venueOrderId);
    // It may cancel the order the previous session placed.
    expect((await fresh.cancelOrder({ symbol: 'AAPL/USD', clientOrderId })).status).toBe('cancelled');
    expect(tws.order(o.venueOrderId, 7)?.status).toBe('Cancelled');
  });

  it('keeps order ids per client: an order of another client under the same id is not ours', async () => {
    const a = make({ clientId: 21 });
    const b = make({ clientId: 22 });
    extra.push(a, b);
    await Promise.all([a.connect(), b.connect()]);
    const oa = await a.placeOrder({
      clientOrderId: cid('a'),
      symbol: 'AAPL/USD',
      side: 'buy',
      type: 'limit',
      quantity: 1,
      price: 100,
    });
    const ob = await b.placeOrder({
      clientOrderId: cid('b'),
      symbol: 'AAPL/USD',
      side: 'buy',
      type: 'limit',
      quantity: 1,
      price: 189,
    });
    // Both learnt the same next valid id, as two TWS clients do.
    expect(ob.venueOrderId).toBe(oa.venueOrderId);
    const seenByA: VenueOrder[] = [];
    const fillsA: VenueFill[] = [];
    const s1 = a.watchOrders((o) => seenByA.push(o));
    const s2 = a.watchFills((f) => fillsA.push(f));
    const bOrders: VenueOrder[] = [];
    const s3 = b.watchOrders((o) => bOrders.push(o));
    tws.setPrice('AAPL', 188);
    await until(() => bOrders.some((o) => o.status === 'filled'), "b's fill");
    s1.close();
    s2.close();
    s3.close();
    tws.setPrice('AAPL', 190);
    expect(seenByA).toEqual([]);
    expect(fillsA).toEqual([]);
    expect((await a.fetchOrder({ symbol: 'AAPL/USD', venueOrderId: oa.venueOrderId }))?.status).toBe('accepted');
    await a.cancelOrder({ symbol: 'AAPL/USD', venueOrderId: oa.venueOrderId });
  });

  it('never sends more than 50 messages in any one second', async () => {
    const paced = make({ clientId: 9, maxMessagesPerSecond: 50 });
    extra.push(paced);
    await paced.connect();
    const from = tws.received.length;
    const times = await Promise.all(Array.from({ length: 120 }, () => paced.fetchServerTime()));
    expect(times.every((t) => Math.abs(t - Date.now()) < 5_000)).toBe(true);
    const at = tws.received.slice(from).map((m) => m.at);
    expect(at.length).toBeGreaterThanOrEqual(120);
    let worst = 0;
    for (let i = 0, j = 0; i < at.length; i++) {
      while (at[i] - at[j] >= 1000) j++;
      worst = Math.max(worst, i - j + 1);
    }
    expect(worst).toBeLessThanOrEqual(50);
    // And the pacer does use the allowance: 120 messages need more than two seconds, not many more.
    expect((at.at(-1) as number) - (at[0] as number)).toBeGreaterThan(1900);
  }, 20_000);
});

describe('IBKR venue from the config file', () => {
  let tws: FakeTwsHandle;
  let live: FakeTwsHandle;
  beforeAll(async () => {
    tws = await startFakeTws({ account: 'DU7654321' });
    live = await startFakeTws({ account: 'U7654321' });
  });
  afterAll(async () => {
    await tws?.close();
    await live?.close();
  });

  const configFor = (port: number, sandbox: boolean, options: Record<string, unknown> = {}) =>
    resolveConfig({
      venues: [{ id: 'ib', type: 'ibkr', sandbox, options: { host: '127.0.0.1', port, clientId: 3, ...options } }],
      deployments: [{ id: 'd', strategy: 'sma-cross', venue: 'ib', symbols: ['AAPL/USD'] }],
    });

  it('builds and connects an ibkr venue on a paper account with host, port and client id from the config', async () => {
    const venues = await buildVenues(configFor(tws.port, true), 'dev', async () => undefined);
    const built = venues.get('ib');
    try {
      expect(built?.type).toBe('ibkr');
      expect(built?.real).toBe(false);
      expect(tws.received.find((m) => m.msgId === 71)?.tokens[2]).toBe('3');
      expect((await built?.venue.fetchInstruments())?.map((i) => i.symbol)).toEqual(['AAPL/USD']);
    } finally {
      for (const v of venues.values()) await v.close();
    }
  });

  it('refuses a live account where the config promises a paper one, before any order', async () => {
    const err = await buildVenues(configFor(live.port, true), 'dev', async () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VenueError);
    expect((err as Error).message).toMatch(/U7654321 is not a paper account/);
    expect(live.received.filter((m) => m.msgId === 3)).toEqual([]);
  });

  it('runs dry_run as a paper account on IB market data: fills on paper, nothing sent to TWS', async () => {
    const venues = await buildVenues(configFor(tws.port, false), 'dry_run', async () => undefined);
    const built = venues.get('ib');
    try {
      expect(built?.real).toBe(false);
      const venue = built?.venue;
      expect((await venue?.fetchTicker('AAPL/USD'))?.last).toBe(190);
      const placedBefore = tws.received.filter((m) => m.msgId === 3).length;
      const o = await venue?.placeOrder({
        clientOrderId: 'dry-1',
        symbol: 'AAPL/USD',
        side: 'buy',
        type: 'market',
        quantity: 2,
      });
      expect(o?.status).toBe('filled');
      expect(o?.averagePrice).toBeGreaterThan(189);
      expect(tws.received.filter((m) => m.msgId === 3)).toHaveLength(placedBefore);
      const usd = (await venue?.fetchBalances())?.find((b) => b.asset === 'USD');
      expect(usd?.total).toBeLessThan(100_000 - 2 * 189);
    } finally {
      for (const v of venues.values()) await v.close();
    }
  });

  it('refuses dev without a paper account, and bad options with their config path', async () => {
    await expect(buildVenues(configFor(tws.port, false), 'dev', async () => undefined)).rejects.toThrow(
      /venues\.0\.sandbox/,
    );
    await expect(
      buildVenues(configFor(tws.port, true, { maxMessagesPerSecond: 80 }), 'dev', async () => undefined),
    ).rejects.toThrow(/venues\.0\.options\.maxMessagesPerSecond/);
    await expect(buildVenues(configFor(tws.port, true, { prot: 1 }), 'dev', async () => undefined)).rejects.toThrow(
      /venues\.0\.options/,
    );
  });
});
