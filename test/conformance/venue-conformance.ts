/** The venue conformance suite (VENUE-1): every adapter runs it through `describeVenueConformance`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Balance,
  type Instrument,
  roundToStep,
  type Ticker,
  type Venue,
  VenueError,
  type VenueFill,
  type VenueOrder,
} from '../../src/core/index.js';
import { placeOrderSafely } from '../../src/venues/resilience.js';

/** What a factory hands the suite: a connected-or-connectable venue with funds, and the symbol to trade. */
export interface ConformanceContext {
  venue: Venue;
  /** A liquid symbol the account can buy (quote funds) and hold. */
  symbol: string;
  /** Releases servers and sockets; the suite calls it after `venue.close()`. */
  teardown?: () => Promise<void>;
  /** Faults the venue's simulator can inject; each fault's case is skipped when it is not given. */
  faults?: {
    /** Ends the venue's login session (expiry, a broker's nightly or weekend invalidation). */
    invalidateSession?: () => void | Promise<void>;
    /** Makes the venue refuse the next request for a rate limit or allowance. */
    rateLimitNext?: () => void | Promise<void>;
  };
}

let seq = 0;
const cid = (tag: string) => `conf${tag}${Date.now().toString(36)}${(seq++).toString(36)}`;

// Smallest lot multiple that clears the instrument's minimums at `price`, with margin.
function qtyFor(inst: Instrument, price: number): number {
  const need = Math.max(inst.minQty, inst.minNotional > 0 ? (inst.minNotional * 1.5) / price : 0);
  return roundToStep(Math.max(need, inst.lotSize), inst.lotSize, 'up');
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Resolves with what `p` threw, failing the test when it resolved instead.
async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    const v = await p;
    throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
  } catch (err) {
    return err;
  }
}

function expectFinalVenueError(err: unknown): VenueError {
  expect(err).toBeInstanceOf(VenueError);
  expect((err as VenueError).retryable, (err as Error).message).toBe(false);
  return err as VenueError;
}

const totalOf = (balances: Balance[], asset: string) => balances.find((b) => b.asset === asset)?.total ?? 0;

// Polls `check` until it holds or `ms` pass; venues that poll REST for orders and fills need a few seconds.
async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await sleep(25);
  return check();
}

/** Registers the conformance tests for one adapter; `factory` runs once for the whole suite. */
export function describeVenueConformance(name: string, factory: () => Promise<ConformanceContext>): void {
  describe(`venue conformance: ${name}`, () => {
    let ctx: ConformanceContext;
    let venue: Venue;
    let inst: Instrument;

    beforeAll(async () => {
      ctx = await factory();
      venue = ctx.venue;
      await venue.connect();
      const all = await venue.fetchInstruments();
      const found = all.find((i) => i.symbol === ctx.symbol);
      if (!found) throw new Error(`${name}: instrument ${ctx.symbol} missing from fetchInstruments`);
      inst = found;
    });

    afterAll(async () => {
      await venue?.close();
      await ctx?.teardown?.();
    });

    it('lists instruments with positive tick and lot and sane limits', async () => {
      const all = await venue.fetchInstruments();
      expect(all.length).toBeGreaterThan(0);
      for (const i of all) {
        expect(i.tickSize, i.symbol).toBeGreaterThan(0);
        expect(i.lotSize, i.symbol).toBeGreaterThan(0);
        expect(i.minQty, i.symbol).toBeGreaterThan(0);
        expect(i.minNotional, i.symbol).toBeGreaterThanOrEqual(0);
        expect(i.multiplier, i.symbol).toBeGreaterThan(0);
        expect(i.symbol).toBe(`${i.base}/${i.quote}`);
      }
    });

    it('reports balances with free + used = total', async () => {
      const balances = await venue.fetchBalances();
      expect(balances.length).toBeGreaterThan(0);
      for (const b of balances) {
        expect(typeof b.asset).toBe('string');
        expect(b.free).toBeGreaterThanOrEqual(0);
        expect(b.used).toBeGreaterThanOrEqual(0);
        expect(b.free + b.used).toBeCloseTo(b.total, 6);
      }
      expect(balances.find((b) => b.asset === inst.quote)?.free).toBeGreaterThan(0);
    });

    it('reports server time close to ours', async () => {
      const t = await venue.fetchServerTime();
      expect(Math.abs(t - Date.now())).toBeLessThan(5_000);
    });

    it('returns a ticker, candles and an order book with the right shapes', async () => {
      const t = await venue.fetchTicker(ctx.symbol);
      expect(t.symbol).toBe(ctx.symbol);
      expect(t.bid).toBeGreaterThan(0);
      expect(t.ask).toBeGreaterThanOrEqual(t.bid);
      expect(t.last).toBeGreaterThan(0);
      const bars = await venue.fetchCandles(ctx.symbol, '1m', undefined, 20);
      expect(bars.length).toBeGreaterThan(1);
      expect(bars.length).toBeLessThanOrEqual(20);
      for (let i = 0; i < bars.length; i++) {
        const b = bars[i];
        expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close) - 1e-9);
        expect(b.low).toBeLessThanOrEqual(Math.min(b.open, b.close) + 1e-9);
        if (i > 0) expect(b.time).toBeGreaterThan(bars[i - 1].time);
      }
      const book = await venue.fetchOrderBook(ctx.symbol, 5);
      expect(book.bids.length).toBeGreaterThan(0);
      expect(book.asks.length).toBeGreaterThan(0);
      expect(book.bids.length).toBeLessThanOrEqual(5);
      expect(book.bids[0].price).toBeLessThan(book.asks[0].price);
      for (let i = 1; i < book.bids.length; i++) expect(book.bids[i].price).toBeLessThan(book.bids[i - 1].price);
      for (let i = 1; i < book.asks.length; i++) expect(book.asks[i].price).toBeGreaterThan(book.asks[i - 1].price);
    });

    it('places, fetches, lists and cancels a limit order far from the market', async () => {
      const t = await venue.fetchTicker(ctx.symbol);
      const price = roundToStep(t.bid * 0.6, inst.tickSize, 'down');
      const quantity = qtyFor(inst, price);
      const clientOrderId = cid('lim');
      const placed = await venue.placeOrder({
        clientOrderId,
        symbol: ctx.symbol,
        side: 'buy',
        type: 'limit',
        quantity,
        price,
        timeInForce: 'GTC',
      });
      expect(placed.clientOrderId).toBe(clientOrderId);
      expect(placed.status).toBe('accepted');
      expect(placed.quantity).toBeCloseTo(quantity, 10);
      expect(placed.price).toBeCloseTo(price, 10);
      expect(placed.filledQuantity).toBe(0);

      const byClient = await venue.fetchOrder({ symbol: ctx.symbol, clientOrderId });
      const byVenue = await venue.fetchOrder({ symbol: ctx.symbol, venueOrderId: placed.venueOrderId });
      expect(byClient?.venueOrderId).toBe(placed.venueOrderId);
      expect(byVenue?.clientOrderId).toBe(clientOrderId);
      expect((await venue.fetchOpenOrders(ctx.symbol)).map((o) => o.venueOrderId)).toContain(placed.venueOrderId);
      expect((await venue.fetchOpenOrders()).map((o) => o.venueOrderId)).toContain(placed.venueOrderId);

      const cancelled = await venue.cancelOrder({ symbol: ctx.symbol, venueOrderId: placed.venueOrderId });
      expect(cancelled.status).toBe('cancelled');
      expect((await venue.fetchOrder({ symbol: ctx.symbol, clientOrderId }))?.status).toBe('cancelled');
      expect((await venue.fetchOpenOrders(ctx.symbol)).map((o) => o.venueOrderId)).not.toContain(placed.venueOrderId);
    });

    it('does not create a second order for a repeated client order id', async () => {
      const t = await venue.fetchTicker(ctx.symbol);
      const price = roundToStep(t.bid * 0.55, inst.tickSize, 'down');
      const quantity = qtyFor(inst, price);
      const clientOrderId = cid('dup');
      const req = {
        clientOrderId,
        symbol: ctx.symbol,
        side: 'buy' as const,
        type: 'limit' as const,
        quantity,
        price,
        timeInForce: 'GTC' as const,
      };
      const first = await venue.placeOrder(req);
      const second = await venue.placeOrder(req);
      expect(second.venueOrderId).toBe(first.venueOrderId);
      const open = (await venue.fetchOpenOrders(ctx.symbol)).filter((o) => o.clientOrderId === clientOrderId);
      expect(open).toHaveLength(1);
      await venue.cancelOrder({ symbol: ctx.symbol, clientOrderId });
    });

    it('fills a market order and reports it in fetchFills', async () => {
      const t = await venue.fetchTicker(ctx.symbol);
      const quantity = qtyFor(inst, t.ask);
      const since = Date.now() - 1_000;
      const clientOrderId = cid('mkt');
      const o = await venue.placeOrder({ clientOrderId, symbol: ctx.symbol, side: 'buy', type: 'market', quantity });
      expect(o.status).toBe('filled');
      expect(o.filledQuantity).toBeCloseTo(quantity, 10);
      expect(o.averagePrice).toBeGreaterThan(0);
      const fills = (await venue.fetchFills(ctx.symbol, since)).filter((f) => f.venueOrderId === o.venueOrderId);
      expect(fills.length).toBeGreaterThan(0);
      expect(fills.reduce((s, f) => s + f.quantity, 0)).toBeCloseTo(quantity, 10);
      for (const f of fills) {
        expect(f.side).toBe('buy');
        expect(f.price).toBeGreaterThan(0);
        expect(f.fee).toBeGreaterThanOrEqual(0);
        expect(['maker', 'taker']).toContain(f.liquidity);
      }
    });

    it('returns null for an order it has never seen', async () => {
      expect(await venue.fetchOrder({ symbol: ctx.symbol, clientOrderId: cid('none') })).toBeNull();
    });

    it('rejects cancelling an unknown order with a non-retryable VenueError', async () => {
      const err = await venue.cancelOrder({ symbol: ctx.symbol, clientOrderId: cid('ghost') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VenueError);
      expect((err as VenueError).retryable).toBe(false);
    });

    const marketBuy = async (tag: string): Promise<VenueOrder> => {
      const t = await venue.fetchTicker(ctx.symbol);
      const quantity = qtyFor(inst, t.ask);
      const o = await venue.placeOrder({
        clientOrderId: cid(tag),
        symbol: ctx.symbol,
        side: 'buy',
        type: 'market',
        quantity,
      });
      expect(o.status).toBe('filled');
      return o;
    };

    it('rejects an order the account cannot pay for with a non-retryable VenueError and records nothing', async () => {
      const t = await venue.fetchTicker(ctx.symbol);
      const quoteFree = (await venue.fetchBalances()).find((b) => b.asset === inst.quote)?.free ?? 0;
      const price = roundToStep(t.bid * 0.6, inst.tickSize, 'down');
      // Three times what the free quote pays for (its margin on a margin venue), far from the market so only the
      // funds check can stop it.
      const quantity = roundToStep((quoteFree * 3) / (price * (inst.marginRate ?? 1)), inst.lotSize, 'up');
      const clientOrderId = cid('poor');
      const err = expectFinalVenueError(
        await rejection(
          venue.placeOrder({
            clientOrderId,
            symbol: ctx.symbol,
            side: 'buy',
            type: 'limit',
            quantity,
            price,
            timeInForce: 'GTC',
          }),
        ),
      );
      // Adapters share the suffix: ccxt says VENUE_INSUFFICIENT_FUNDS, the paper venue INSUFFICIENT_FUNDS.
      expect(err.code).toMatch(/INSUFFICIENT_FUNDS$/);
      expect(await venue.fetchOrder({ symbol: ctx.symbol, clientOrderId })).toBeNull();
      expect((await venue.fetchOpenOrders(ctx.symbol)).map((o) => o.clientOrderId)).not.toContain(clientOrderId);
    });

    it('rejects an order below the minimum size with a non-retryable VenueError', async (test) => {
      const t = await venue.fetchTicker(ctx.symbol);
      const price = roundToStep(t.bid * 0.6, inst.tickSize, 'down');
      // Under the minimum notional when the venue has one, else under the minimum quantity.
      let quantity = Number.NaN;
      if (inst.minNotional > 0) {
        const q = Math.max(inst.lotSize, roundToStep(inst.minNotional / 2 / price, inst.lotSize, 'down'));
        if (q * price < inst.minNotional && q >= inst.minQty) quantity = q;
      }
      if (Number.isNaN(quantity) && inst.minQty > inst.lotSize) {
        quantity = roundToStep(inst.minQty - inst.lotSize, inst.lotSize, 'down');
      }
      if (!(quantity > 0)) test.skip('the instrument has no minimum above one lot');
      const clientOrderId = cid('tiny');
      const err = expectFinalVenueError(
        await rejection(
          venue.placeOrder({
            clientOrderId,
            symbol: ctx.symbol,
            side: 'buy',
            type: 'limit',
            quantity,
            price,
            timeInForce: 'GTC',
          }),
        ),
      );
      expect(err.code).toBe('VENUE_INVALID_ORDER');
      expect(await venue.fetchOrder({ symbol: ctx.symbol, clientOrderId })).toBeNull();
    });

    it('accepts a native stop order away from the market and cancels it', async (test) => {
      if (!venue.capabilities.stopOrders) test.skip('the venue has no native stop orders');
      const t = await venue.fetchTicker(ctx.symbol);
      // A buy stop well above the market: it must rest, untriggered, until cancelled.
      const stopPrice = roundToStep(Math.max(t.ask, t.last) * 1.3, inst.tickSize, 'up');
      const quantity = qtyFor(inst, stopPrice);
      const clientOrderId = cid('stp');
      const placed = await venue.placeOrder({
        clientOrderId,
        symbol: ctx.symbol,
        side: 'buy',
        type: 'stop',
        quantity,
        stopPrice,
      });
      expect(placed.clientOrderId).toBe(clientOrderId);
      expect(placed.status).toBe('accepted');
      expect(placed.type).toBe('stop');
      expect(placed.stopPrice).toBeCloseTo(stopPrice, 8);
      expect(placed.filledQuantity).toBe(0);
      const listed = (await venue.fetchOpenOrders(ctx.symbol)).find((o) => o.venueOrderId === placed.venueOrderId);
      expect(listed?.type).toBe('stop');
      expect(listed?.stopPrice).toBeCloseTo(stopPrice, 8);
      const cancelled = await venue.cancelOrder({ symbol: ctx.symbol, clientOrderId });
      expect(cancelled.status).toBe('cancelled');
      expect(cancelled.filledQuantity).toBe(0);
      expect((await venue.fetchOrder({ symbol: ctx.symbol, venueOrderId: placed.venueOrderId }))?.status).toBe(
        'cancelled',
      );
      expect((await venue.fetchOpenOrders(ctx.symbol)).map((o) => o.venueOrderId)).not.toContain(placed.venueOrderId);
    });

    it('delivers the fill of a market order through watchOrders and watchFills', async () => {
      const orders: VenueOrder[] = [];
      const fills: VenueFill[] = [];
      const errors: Error[] = [];
      const subOrders = venue.watchOrders(
        (o) => orders.push(o),
        (e) => errors.push(e),
      );
      const subFills = venue.watchFills(
        (f) => fills.push(f),
        (e) => errors.push(e),
      );
      try {
        // Let polling watchers take their starting point before the order exists.
        await sleep(300);
        const o = await marketBuy('wch');
        const mine = (list: { venueOrderId: string }[]) => list.filter((x) => x.venueOrderId === o.venueOrderId);
        const filledQty = () => mine(fills).reduce((s, f) => s + (f as VenueFill).quantity, 0);
        const done = await eventually(
          () =>
            mine(orders).some((u) => (u as VenueOrder).status === 'filled') &&
            Math.abs(filledQty() - o.filledQuantity) < inst.lotSize / 2,
          8_000,
        );
        expect(errors).toEqual([]);
        expect(done, `orders ${JSON.stringify(mine(orders))} fills ${JSON.stringify(mine(fills))}`).toBe(true);
        const last = mine(orders).at(-1) as VenueOrder;
        expect(last.status).toBe('filled');
        expect(last.clientOrderId).toBe(o.clientOrderId);
        expect(last.filledQuantity).toBeCloseTo(o.filledQuantity, 10);
        for (const f of mine(fills) as VenueFill[]) {
          expect(f.symbol).toBe(ctx.symbol);
          expect(f.side).toBe('buy');
          expect(f.price).toBeGreaterThan(0);
        }
        // Each execution once: no duplicates across polls.
        const ids = (mine(fills) as VenueFill[]).map((f) => f.venueTradeId);
        expect(new Set(ids).size).toBe(ids.length);
      } finally {
        subOrders.close();
        subFills.close();
      }
    });

    it('moves balances on a fill: quote down by about the cost, base up by about the quantity', async (test) => {
      if (venue.capabilities.positions) test.skip('a margin venue holds positions: the next case covers it');
      const before = await venue.fetchBalances();
      const o = await marketBuy('bal');
      const after = await venue.fetchBalances();
      const cost = o.filledQuantity * o.averagePrice;
      const quoteDown = totalOf(before, inst.quote) - totalOf(after, inst.quote);
      const baseUp = totalOf(after, inst.base) - totalOf(before, inst.base);
      // Fees (a fraction of a percent) come out of either side depending on the venue.
      expect(quoteDown).toBeGreaterThan(cost * 0.98);
      expect(quoteDown).toBeLessThan(cost * 1.02);
      expect(baseUp).toBeGreaterThan(o.filledQuantity * 0.98);
      expect(baseUp).toBeLessThanOrEqual(o.filledQuantity * (1 + 1e-9));
    });

    it('moves position and margin on a fill (margin venues): position up by the quantity, margin used by about its share', async (test) => {
      if (!venue.capabilities.positions) test.skip('a spot venue moves balances: the previous case covers it');
      const before = await venue.fetchBalances();
      const posBefore = await holding();
      const o = await marketBuy('mpos');
      const after = await venue.fetchBalances();
      expect((await holding()) - posBefore).toBeCloseTo(o.filledQuantity, 10);
      const usedUp =
        (after.find((b) => b.asset === inst.quote)?.used ?? 0) -
        (before.find((b) => b.asset === inst.quote)?.used ?? 0);
      const margin = o.filledQuantity * o.averagePrice * inst.multiplier * (inst.marginRate ?? 1);
      expect(usedUp).toBeGreaterThan(margin * 0.98);
      expect(usedUp).toBeLessThan(margin * 1.02);
    });

    // What the account holds of the symbol: the net position on a margin venue, the base asset on a spot one.
    const holding = async (): Promise<number> =>
      venue.capabilities.positions
        ? ((await venue.fetchPositions()).find((p) => p.symbol === ctx.symbol)?.quantity ?? 0)
        : totalOf(await venue.fetchBalances(), inst.base);

    it('does not place a second order for the client id of a filled order when placing through placeOrderSafely', async () => {
      // Binance lets a client order id be reused once its order is closed, so a raw adapter may accept this as a
      // new order, as the exchange would. The engine places through placeOrderSafely (ResilientVenue), and the
      // ccxt adapter looks up ids it has already sent, so a repeated placement returns the filled order instead.
      const first = await marketBuy('re');
      const req = {
        clientOrderId: first.clientOrderId,
        symbol: ctx.symbol,
        side: 'buy' as const,
        type: 'market' as const,
        quantity: first.quantity,
      };
      const baseBefore = await holding();
      const since = Date.now();
      const again = await placeOrderSafely(venue, req, { settleMs: 50, baseMs: 10 });
      expect(again.venueOrderId).toBe(first.venueOrderId);
      expect(again.status).toBe('filled');
      expect(again.filledQuantity).toBeCloseTo(first.filledQuantity, 10);
      await sleep(200);
      expect(await holding()).toBeCloseTo(baseBefore, 10);
      const later = await venue.fetchFills(ctx.symbol, since - 5_000);
      expect(later.filter((f) => f.venueOrderId !== first.venueOrderId && f.time >= since)).toEqual([]);
      const byClient = await venue.fetchOrder({ symbol: ctx.symbol, clientOrderId: first.clientOrderId });
      expect(byClient?.venueOrderId).toBe(first.venueOrderId);
    });

    it('never reports a filled order as cancelled: cancelling it fails non-retryably or returns the filled state', async () => {
      const o = await marketBuy('cf');
      for (const ref of [
        { symbol: ctx.symbol, venueOrderId: o.venueOrderId },
        { symbol: ctx.symbol, clientOrderId: o.clientOrderId },
      ]) {
        let result: VenueOrder | undefined;
        try {
          result = await venue.cancelOrder(ref);
        } catch (err) {
          expectFinalVenueError(err);
        }
        if (result) {
          expect(result.status).toBe('filled');
          expect(result.filledQuantity).toBeCloseTo(o.filledQuantity, 10);
        }
      }
      expect((await venue.fetchOrder({ symbol: ctx.symbol, venueOrderId: o.venueOrderId }))?.status).toBe('filled');
    });

    it('honours `since` in fetchFills', async () => {
      const first = await marketBuy('s1');
      const firstFills = (await venue.fetchFills(ctx.symbol)).filter((f) => f.venueOrderId === first.venueOrderId);
      expect(firstFills.length).toBeGreaterThan(0);
      const cut = Math.max(...firstFills.map((f) => f.time)) + 1;
      // Make sure the second order's executions carry a later time than the cut.
      while (Date.now() <= cut + 5) await sleep(5);
      const second = await marketBuy('s2');
      const after = await venue.fetchFills(ctx.symbol, cut);
      for (const f of after) expect(f.time).toBeGreaterThanOrEqual(cut);
      expect(after.some((f) => f.venueOrderId === second.venueOrderId)).toBe(true);
      expect(after.some((f) => f.venueOrderId === first.venueOrderId)).toBe(false);
      const all = await venue.fetchFills(ctx.symbol, cut - 60_000);
      expect(all.some((f) => f.venueOrderId === first.venueOrderId)).toBe(true);
    });

    it('carries on after the venue ends its session: the adapter logs in again', async (test) => {
      const invalidate = ctx.faults?.invalidateSession;
      if (!invalidate) test.skip('the simulator has no sessions to end');
      await invalidate?.();
      const balances = await venue.fetchBalances();
      expect(balances.find((b) => b.asset === inst.quote)?.free).toBeGreaterThan(0);
      const o = await marketBuy('sess');
      expect(o.filledQuantity).toBeGreaterThan(0);
    });

    it('streams ticker updates until closed', async () => {
      const got: Ticker[] = [];
      const errors: Error[] = [];
      const sub = venue.watchTicker(
        ctx.symbol,
        (t) => got.push(t),
        (e) => errors.push(e),
      );
      const deadline = Date.now() + 10_000;
      while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      sub.close();
      expect(errors).toEqual([]);
      expect(got.length).toBeGreaterThanOrEqual(3);
      for (const t of got) {
        expect(t.symbol).toBe(ctx.symbol);
        expect(t.ask).toBeGreaterThanOrEqual(t.bid);
      }
      await new Promise((r) => setTimeout(r, 150));
      const after = got.length;
      await new Promise((r) => setTimeout(r, 400));
      expect(got.length).toBe(after);
    });

    // Last: an adapter may refuse further requests for a while after the refusal (IG pauses a minute).
    it('reports a rate-limit refusal as a retryable VenueError with how long to wait', async (test) => {
      const limit = ctx.faults?.rateLimitNext;
      if (!limit) test.skip('the simulator injects no rate-limit refusal here');
      await limit?.();
      const err = await rejection(venue.fetchTicker(ctx.symbol));
      expect(err).toBeInstanceOf(VenueError);
      expect((err as VenueError).retryable).toBe(true);
      expect((err as VenueError).code).toBe('VENUE_RATE_LIMIT');
      expect((err as VenueError).retryAfterMs).toBeGreaterThan(0);
    });
  });
}
