/** The venue conformance suite (VENUE-1): every adapter runs it through `describeVenueConformance`. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Instrument, roundToStep, type Ticker, type Venue, VenueError } from '../../src/core/index.js';

/** What a factory hands the suite: a connected-or-connectable venue with funds, and the symbol to trade. */
export interface ConformanceContext {
  venue: Venue;
  /** A liquid symbol the account can buy (quote funds) and hold. */
  symbol: string;
  /** Releases servers and sockets; the suite calls it after `venue.close()`. */
  teardown?: () => Promise<void>;
}

let seq = 0;
const cid = (tag: string) => `conf${tag}${Date.now().toString(36)}${(seq++).toString(36)}`;

// Smallest lot multiple that clears the instrument's minimums at `price`, with margin.
function qtyFor(inst: Instrument, price: number): number {
  const need = Math.max(inst.minQty, inst.minNotional > 0 ? (inst.minNotional * 1.5) / price : 0);
  return roundToStep(Math.max(need, inst.lotSize), inst.lotSize, 'up');
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
  });
}
