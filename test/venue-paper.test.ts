/**
 * Paper venue behaviour on live prices: real ccxt (keyless) reads the simulator's market over loopback, and the
 * simulator's price is moved by the test, so every crossing is deterministic. Expected prices and fees come from
 * the backtest models themselves.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PercentFeeModel } from '../src/backtest/fee-model.js';
import { BarFillModel, limitFillPrice, stopFillPrice, stopLimitFillPrice } from '../src/backtest/fill-model.js';
import { PercentSlippage, type SlippageModel } from '../src/backtest/slippage-model.js';
import { ValidationError, type VenueError, type VenueFill, type VenueOrder } from '../src/core/index.js';
import type { DomainEvent } from '../src/core/events.js';
import { exact } from '../src/core/money.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import type { BarLike } from '../src/engine/execution-venue.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { VenueMessages } from '../src/venues/live/venue-messages.js';
import { PAPER_CODES, PaperVenue, type PaperVenueOptions } from '../src/venues/paper/index.js';
import { ResilientVenue } from '../src/venues/resilience.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

const SYM = 'BTC/USDT';
const SIM_SYM = 'BTCUSDT';

let sim: SimulatorHandle;
const venues: PaperVenue[] = [];
let seq = 0;
const cid = (tag: string) => `pt${tag}${Date.now().toString(36)}${(seq++).toString(36)}`;

async function waitFor(cond: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const flat = (price: number): BarLike => ({ time: 0, open: price, high: price, low: price, close: price, volume: 0 });

/** Keyless ccxt on the simulator's public market data; one per paper venue, which closes it. */
const newMarket = () => new CcxtVenue({ exchange: 'binance', urls: sim.ccxtUrls(), rateLimitMs: 1, timeoutMs: 3_000 });

/** A paper venue on its own market source, already streaming BTC/USDT at `price`. */
async function paper(price: number, opts: Partial<PaperVenueOptions> = {}): Promise<PaperVenue> {
  const v = new PaperVenue({ market: newMarket(), closeMarket: true, balances: { USDT: 10_000, BTC: 0.1 }, ...opts });
  venues.push(v);
  await v.track(SYM);
  // The first price after subscribing proves the stream is live; repeat until it arrives.
  await waitFor(() => {
    if (v.lastQuote(SYM)?.last === price) return true;
    sim.setPrice(SIM_SYM, price);
    return false;
  }, `first ticker at ${price}`);
  return v;
}

/** Moves the live price and waits until the paper venue has matched against it. */
async function moveTo(v: PaperVenue, price: number): Promise<void> {
  sim.setPrice(SIM_SYM, price);
  await waitFor(() => v.lastQuote(SYM)?.last === price, `ticker at ${price}`);
}

function balance(bs: { asset: string; free: number; used: number; total: number }[], asset: string) {
  return bs.find((b) => b.asset === asset) ?? { asset, free: 0, used: 0, total: 0 };
}

beforeAll(async () => {
  sim = await startSimulator({ seed: 3, tickIntervalMs: 0 });
});

afterEach(async () => {
  for (const v of venues.splice(0)) await v.close();
});

afterAll(async () => {
  await sim?.close();
});

describe('paper venue on live prices', () => {
  it('fills a resting buy limit when the live price crosses it, at the fill model price, maker fee', async () => {
    const v = await paper(30_000);
    const orders: VenueOrder[] = [];
    const fills: VenueFill[] = [];
    v.watchOrders((o) => orders.push(o));
    v.watchFills((f) => fills.push(f));
    const placed = await v.placeOrder({
      clientOrderId: cid('lim'),
      symbol: SYM,
      side: 'buy',
      type: 'limit',
      quantity: 0.01,
      price: 29_500,
    });
    expect(placed.status).toBe('accepted');
    // Reserved: the notional at the limit plus the fee.
    const reserved = 0.01 * 29_500 * 1.001;
    expect(balance(await v.fetchBalances(), 'USDT').used).toBeCloseTo(reserved, 8);

    await moveTo(v, 29_800);
    expect((await v.fetchOrder({ symbol: SYM, venueOrderId: placed.venueOrderId }))?.status).toBe('accepted');

    await moveTo(v, 29_400);
    const done = await v.fetchOrder({ symbol: SYM, venueOrderId: placed.venueOrderId });
    expect(done?.status).toBe('filled');
    const price = limitFillPrice('buy', 29_500, flat(29_400));
    expect(price).toBe(29_400); // the model fills a gap through the limit at the open
    expect(done?.averagePrice).toBe(price);
    const fee = new PercentFeeModel().fee(price * 0.01, 'maker');
    expect(fills).toHaveLength(1);
    expect(fills[0]).toMatchObject({ venueOrderId: placed.venueOrderId, price, quantity: 0.01, liquidity: 'maker' });
    expect(fills[0].fee).toBeCloseTo(fee, 12);
    expect(fills[0].feeCurrency).toBe('USDT');
    expect(orders.map((o) => o.status)).toEqual(['accepted', 'filled']);
    const bs = await v.fetchBalances();
    expect(balance(bs, 'USDT').total).toBeCloseTo(10_000 - price * 0.01 - fee, 8);
    expect(balance(bs, 'USDT').used).toBe(0);
    expect(balance(bs, 'BTC').total).toBeCloseTo(0.11, 12);
    expect(await v.fetchOpenOrders(SYM)).toEqual([]);
    expect((await v.fetchFills(SYM)).map((f) => f.venueTradeId)).toEqual([fills[0].venueTradeId]);
  });

  it('triggers a sell stop and a buy stop-limit as the fill model says, taker and maker', async () => {
    const v = await paper(30_000);
    const stop = await v.placeOrder({
      clientOrderId: cid('stp'),
      symbol: SYM,
      side: 'sell',
      type: 'stop',
      quantity: 0.05,
      stopPrice: 29_000,
    });
    const stopLimit = await v.placeOrder({
      clientOrderId: cid('stl'),
      symbol: SYM,
      side: 'buy',
      type: 'stop_limit',
      quantity: 0.01,
      stopPrice: 30_500,
      price: 30_600,
    });
    expect(balance(await v.fetchBalances(), 'BTC').used).toBeCloseTo(0.05, 12);

    await moveTo(v, 29_500);
    await moveTo(v, 28_900);
    const stopFill = (await v.fetchFills(SYM)).filter((f) => f.venueOrderId === stop.venueOrderId);
    const stopPx = stopFillPrice('sell', 29_000, flat(28_900));
    expect(stopFill).toHaveLength(1);
    expect(stopFill[0]).toMatchObject({ price: stopPx, quantity: 0.05, liquidity: 'taker' });
    expect(stopFill[0].fee).toBeCloseTo(new PercentFeeModel().fee(stopPx * 0.05, 'taker'), 12);

    await moveTo(v, 30_550);
    const slFill = (await v.fetchFills(SYM)).filter((f) => f.venueOrderId === stopLimit.venueOrderId);
    const slPx = stopLimitFillPrice('buy', 30_500, 30_600, flat(30_550), { triggered: false });
    expect(slPx).toBe(30_550);
    expect(slFill).toHaveLength(1);
    expect(slFill[0]).toMatchObject({ price: slPx, quantity: 0.01, liquidity: 'maker' });
    const bs = await v.fetchBalances();
    expect(balance(bs, 'BTC').total).toBeCloseTo(0.1 - 0.05 + 0.01, 12);
    const usdt =
      10_000 +
      stopPx * 0.05 -
      new PercentFeeModel().fee(stopPx * 0.05, 'taker') -
      slPx * 0.01 -
      new PercentFeeModel().fee(slPx * 0.01, 'maker');
    expect(balance(bs, 'USDT').total).toBeCloseTo(usdt, 8);
  });

  it('fills a market order at once at the quote, with the slippage and fee models (maker/taker rates)', async () => {
    const feeModel = new PercentFeeModel(0.0002, 0.0015);
    const slippage: SlippageModel = new PercentSlippage(0.001);
    const v = await paper(30_000, { feeRate: { maker: 0.0002, taker: 0.0015 }, slippage });
    const quote = v.lastQuote(SYM)!;
    expect(quote.ask).toBeGreaterThan(quote.bid);
    const buy = await v.placeOrder({
      clientOrderId: cid('mb'),
      symbol: SYM,
      side: 'buy',
      type: 'market',
      quantity: 0.02,
    });
    expect(buy.status).toBe('filled');
    const q = flat(quote.ask);
    const px = slippage.apply('buy', new BarFillModel().marketPrice({} as never, q), 0.02, q);
    expect(buy.averagePrice).toBeCloseTo(px, 9);
    const [fill] = (await v.fetchFills(SYM)).filter((f) => f.venueOrderId === buy.venueOrderId);
    expect(fill.liquidity).toBe('taker');
    expect(fill.fee).toBeCloseTo(feeModel.fee(px * 0.02, 'taker'), 12);

    const sell = await v.placeOrder({
      clientOrderId: cid('ls'),
      symbol: SYM,
      side: 'sell',
      type: 'limit',
      quantity: 0.02,
      price: 30_200,
    });
    await moveTo(v, 30_250);
    const [sellFill] = (await v.fetchFills(SYM)).filter((f) => f.venueOrderId === sell.venueOrderId);
    // Maker fills are not slipped and pay the maker rate.
    const sellPx = limitFillPrice('sell', 30_200, flat(30_250));
    expect(sellFill.price).toBe(sellPx);
    expect(sellFill.fee).toBeCloseTo(feeModel.fee(sellPx * 0.02, 'maker'), 12);
    const usdt = 10_000 - px * 0.02 - fill.fee + sellPx * 0.02 - sellFill.fee;
    expect(balance(await v.fetchBalances(), 'USDT').total).toBeCloseTo(usdt, 8);
  });

  it('rejects what a real venue rejects: short funds, tiny orders, unknown symbols; rounds to tick and lot', async () => {
    const v = await paper(30_000);
    const expectReject = async (p: Promise<unknown>, code: string) => {
      const err = (await p.catch((e: unknown) => e)) as VenueError;
      expect(err.name).toBe('VenueError');
      expect(err.retryable).toBe(false);
      expect(err.code).toBe(code);
    };
    const big = cid('big');
    await expectReject(
      v.placeOrder({ clientOrderId: big, symbol: SYM, side: 'buy', type: 'limit', quantity: 0.5, price: 29_000 }),
      PAPER_CODES.insufficientFunds,
    );
    expect(await v.fetchOrder({ symbol: SYM, clientOrderId: big })).toBeNull();
    await expectReject(
      v.placeOrder({ clientOrderId: cid('sell'), symbol: SYM, side: 'sell', type: 'market', quantity: 0.2 }),
      PAPER_CODES.insufficientFunds,
    );
    await expectReject(
      v.placeOrder({
        clientOrderId: cid('tiny'),
        symbol: SYM,
        side: 'buy',
        type: 'limit',
        quantity: 0.0001,
        price: 29_000,
      }),
      PAPER_CODES.invalidOrder,
    );
    await expectReject(
      v.placeOrder({ clientOrderId: cid('nop'), symbol: SYM, side: 'buy', type: 'limit', quantity: 0.01 }),
      PAPER_CODES.invalidOrder,
    );
    await expectReject(
      v.placeOrder({ clientOrderId: cid('sym'), symbol: 'NOPE/USDT', side: 'buy', type: 'market', quantity: 1 }),
      PAPER_CODES.badSymbol,
    );
    await expectReject(v.cancelOrder({ symbol: SYM, clientOrderId: cid('ghost') }), PAPER_CODES.orderNotFound);
    const rounded = await v.placeOrder({
      clientOrderId: cid('rnd'),
      symbol: SYM,
      side: 'buy',
      type: 'limit',
      quantity: 0.0123456789,
      price: 29_123.456,
    });
    expect(rounded.price).toBe(29_123.46);
    expect(rounded.quantity).toBe(0.01234);
    const bs = await v.fetchBalances();
    expect(balance(bs, 'USDT').free).toBeCloseTo(10_000 - 0.01234 * 29_123.46 * 1.001, 8);
  });

  it('honours client order ids: concurrent and repeated placements give one order, reserved once', async () => {
    const v = await paper(30_000);
    const id = cid('dup');
    const req = {
      clientOrderId: id,
      symbol: SYM,
      side: 'buy' as const,
      type: 'limit' as const,
      quantity: 0.01,
      price: 29_000,
    };
    const [a, b] = await Promise.all([v.placeOrder(req), v.placeOrder(req)]);
    const c = await v.placeOrder(req);
    expect(b.venueOrderId).toBe(a.venueOrderId);
    expect(c.venueOrderId).toBe(a.venueOrderId);
    expect((await v.fetchOpenOrders(SYM)).filter((o) => o.clientOrderId === id)).toHaveLength(1);
    expect(balance(await v.fetchBalances(), 'USDT').used).toBeCloseTo(0.01 * 29_000 * 1.001, 8);
    const cancelled = await v.cancelOrder({ symbol: SYM, clientOrderId: id });
    expect(cancelled.status).toBe('cancelled');
    expect(balance(await v.fetchBalances(), 'USDT').used).toBe(0);
    // The id stays taken: placing it again returns the cancelled order, never a new one.
    const again = await v.placeOrder(req);
    expect(again).toMatchObject({ venueOrderId: a.venueOrderId, status: 'cancelled' });
    // Cancelling a finished order reports its final state.
    expect((await v.cancelOrder({ symbol: SYM, venueOrderId: a.venueOrderId })).status).toBe('cancelled');
  });

  it('fills partially by the participation cap on each update volume, through partially_filled to filled', async () => {
    const v = await paper(30_000, { partialFillParticipation: 0.5 });
    const statuses: string[] = [];
    v.watchOrders((o) => statuses.push(`${o.status}:${o.filledQuantity}`));
    const placed = await v.placeOrder({
      clientOrderId: cid('part'),
      symbol: SYM,
      side: 'buy',
      type: 'limit',
      quantity: 0.02,
      price: 29_500,
    });
    // Volume on the simulator: trades of its own account, then a price move that publishes the new 24h volume.
    const trade = (qty: number) =>
      sim.state.placeOrder({ symbol: SIM_SYM, side: 'BUY', type: 'MARKET', quantity: qty }, cid('vol'));
    trade(0.01);
    await moveTo(v, 29_400);
    trade(0.01);
    await moveTo(v, 29_390);
    trade(0.04);
    await moveTo(v, 29_380);
    const fills = (await v.fetchFills(SYM)).filter((f) => f.venueOrderId === placed.venueOrderId);
    expect(fills.map((f) => f.quantity)).toEqual([0.005, 0.005, 0.01]);
    expect(fills.map((f) => f.price)).toEqual([29_400, 29_390, 29_380]);
    expect(statuses).toEqual(['accepted:0', 'partially_filled:0.005', 'partially_filled:0.01', 'filled:0.02']);
    const done = await v.fetchOrder({ symbol: SYM, venueOrderId: placed.venueOrderId });
    expect(done?.averagePrice).toBeCloseTo((0.005 * 29_400 + 0.005 * 29_390 + 0.01 * 29_380) / 0.02, 9);
    expect(balance(await v.fetchBalances(), 'USDT').used).toBe(0);
  });

  it('modifies a resting order: new price and quantity, reservation follows', async () => {
    const v = await paper(30_000);
    const placed = await v.placeOrder({
      clientOrderId: cid('mod'),
      symbol: SYM,
      side: 'buy',
      type: 'limit',
      quantity: 0.01,
      price: 29_000,
    });
    const modified = await v.modifyOrder(
      { symbol: SYM, venueOrderId: placed.venueOrderId },
      { price: '29700', quantity: '0.02' },
    );
    expect(modified).toMatchObject({
      venueOrderId: placed.venueOrderId,
      price: 29_700,
      quantity: 0.02,
      status: 'accepted',
    });
    expect(balance(await v.fetchBalances(), 'USDT').used).toBeCloseTo(0.02 * 29_700 * 1.001, 8);
    const err = (await v
      .modifyOrder({ symbol: SYM, venueOrderId: placed.venueOrderId }, { quantity: '1' })
      .catch((e: unknown) => e)) as VenueError;
    expect(err.code).toBe(PAPER_CODES.insufficientFunds);
    expect((await v.fetchOrder({ symbol: SYM, venueOrderId: placed.venueOrderId }))?.quantity).toBe(0.02);
    await moveTo(v, 29_650);
    const [fill] = await v.fetchFills(SYM);
    expect(fill).toMatchObject({ price: 29_650, quantity: 0.02 });
  });

  it('a modification passes through the runtime wrappers as exact text and lands on the grid by the money rules', async () => {
    const v = await paper(30_000);
    const bus = new InProcessEventBus();
    const said: string[] = [];
    bus.subscribe('venue.message.v1', (e: DomainEvent<'venue.message.v1'>) => said.push(e.payload.message));
    // The runtime's stack: the recorder of venue messages over the retrying decorator over the adapter.
    const venue = new VenueMessages(new ResilientVenue(v), { bus });
    const clientOrderId = cid('mx');
    const placed = await venue.placeOrder({
      clientOrderId,
      symbol: SYM,
      side: 'buy',
      type: 'limit',
      quantity: 0.01,
      price: 29_000,
    });
    // 0.1 + 0.2 of a lot past 0.02 (0.02000003) goes toward zero onto the lot (0.00001); a buy limit of 29700.019 goes
    // down onto the tick (0.01), where a float rounding to the nearest tick gave 29700.02.
    const modified = await venue.modifyOrder(
      { symbol: SYM, clientOrderId },
      { quantity: exact('0.02').plus(exact('0.00000001').plus('0.00000002')), price: '29700.019' },
    );
    expect(modified).toMatchObject({ venueOrderId: placed.venueOrderId, price: 29_700.01, quantity: 0.02 });
    expect(said).toContain(`modifyOrder sent: ${SYM} quantity 0.02000003 price 29700.019`);
    expect(said.some((m) => m.startsWith('modifyOrder: accepted, filled 0 of 0.02'))).toBe(true);
    // Bad text is refused in one line before anything changes (and is not retried).
    const err = (await venue
      .modifyOrder({ symbol: SYM, clientOrderId }, { price: '29 700' })
      .catch((e: unknown) => e)) as VenueError;
    expect(err.code).toBe(PAPER_CODES.invalidOrder);
    expect(err.message).toMatch(/modifyOrder price: "29 700" is not a decimal number$/);
    expect(said.at(-1)).toMatch(/^modifyOrder failed \(VENUE_INVALID_ORDER\)/);
    expect((await v.fetchOrder({ symbol: SYM, clientOrderId }))?.price).toBe(29_700.01);
    // A sell stop's trigger goes down onto the tick: never triggers before the asked level.
    const stopId = cid('ms');
    await venue.placeOrder({
      clientOrderId: stopId,
      symbol: SYM,
      side: 'sell',
      type: 'stop',
      quantity: 0.01,
      stopPrice: 29_000,
    });
    const moved = await venue.modifyOrder({ symbol: SYM, clientOrderId: stopId }, { stopPrice: '29100.009' });
    expect(moved.stopPrice).toBe(29_100);
  });

  it('persists and restores the account: balances, orders, fills, ids, and matching resumes', async () => {
    const v = await paper(30_000);
    await v.placeOrder({ clientOrderId: cid('m'), symbol: SYM, side: 'buy', type: 'market', quantity: 0.01 });
    const restingId = cid('r');
    const resting = await v.placeOrder({
      clientOrderId: restingId,
      symbol: SYM,
      side: 'buy',
      type: 'stop_limit',
      quantity: 0.01,
      stopPrice: 30_500,
      price: 30_400,
    });
    // Trigger the stop-limit without filling it (trigger above the limit): the triggered flag must survive.
    await moveTo(v, 30_600);
    expect((await v.fetchOrder({ symbol: SYM, clientOrderId: restingId }))?.status).toBe('accepted');
    const saved = JSON.parse(JSON.stringify(v.getState()));
    const before = { balances: await v.fetchBalances(), open: await v.fetchOpenOrders(), fills: await v.fetchFills() };
    await v.close();

    const w = new PaperVenue({ market: newMarket(), closeMarket: true, balances: { USDT: 1 } });
    venues.push(w);
    w.restore(saved);
    await w.connect();
    expect(await w.fetchBalances()).toEqual(before.balances);
    expect(await w.fetchOpenOrders()).toEqual(before.open);
    expect(await w.fetchFills()).toEqual(before.fills);
    expect(
      (await w.placeOrder({ clientOrderId: restingId, symbol: SYM, side: 'buy', type: 'market', quantity: 1 }))
        .venueOrderId,
    ).toBe(resting.venueOrderId);
    // Already triggered: the order is a plain limit now and fills at the limit model's price.
    await waitFor(() => {
      if (w.lastQuote(SYM)?.last === 30_350) return true;
      sim.setPrice(SIM_SYM, 30_350);
      return false;
    }, 'restored stream');
    const filled = await w.fetchOrder({ symbol: SYM, clientOrderId: restingId });
    expect(filled?.status).toBe('filled');
    expect(filled?.averagePrice).toBe(limitFillPrice('buy', 30_400, flat(30_350)));
    const fresh = await w.placeOrder({
      clientOrderId: cid('n'),
      symbol: SYM,
      side: 'buy',
      type: 'market',
      quantity: 0.001,
    });
    expect(before.open.map((o) => o.venueOrderId).concat(before.fills.map((f) => f.venueOrderId))).not.toContain(
      fresh.venueOrderId,
    );

    const bad = { ...saved, orders: [{ ...saved.orders[0], order: { ...saved.orders[0].order, quantity: -1 } }] };
    const err = (() => {
      try {
        w.restore(bad);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).message).toContain('orders.0.order.quantity');
    expect((await w.fetchOrder({ symbol: SYM, clientOrderId: restingId }))?.status).toBe('filled');
  });

  it('gives an immediate-or-cancel order one update, then cancels the rest and frees its funds', async () => {
    const v = await paper(30_000);
    const ioc = await v.placeOrder({
      clientOrderId: cid('ioc'),
      symbol: SYM,
      side: 'buy',
      type: 'limit',
      quantity: 0.01,
      price: 29_000,
      timeInForce: 'IOC',
    });
    expect(ioc.status).toBe('accepted');
    expect(balance(await v.fetchBalances(), 'USDT').used).toBeGreaterThan(0);
    await moveTo(v, 29_990);
    expect((await v.fetchOrder({ symbol: SYM, venueOrderId: ioc.venueOrderId }))?.status).toBe('cancelled');
    expect(balance(await v.fetchBalances(), 'USDT')).toMatchObject({ used: 0, total: 10_000 });
  });

  it('stops matching after close', async () => {
    const v = await paper(30_000);
    const placed = await v.placeOrder({
      clientOrderId: cid('cl'),
      symbol: SYM,
      side: 'buy',
      type: 'limit',
      quantity: 0.01,
      price: 29_900,
    });
    await v.close();
    sim.setPrice(SIM_SYM, 29_000);
    await new Promise((r) => setTimeout(r, 300));
    expect((await v.fetchOrder({ symbol: SYM, venueOrderId: placed.venueOrderId }))?.status).toBe('accepted');
    expect(v.lastQuote(SYM)?.last).toBe(30_000);
  });
});
