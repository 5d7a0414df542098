/**
 * IBKR market data (real @stoqey/ib client against the fake TWS over the wire protocol): ticker and top of book from
 * `reqMktData` snapshots and streams, historical bars, 5-second real-time bars built into the timeframe, and IB's
 * market data refusals (354 not subscribed, 162 pacing, 100 message rate) as clear VenueErrors.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Bar, Ticker } from '../src/core/bar.js';
import { VenueError } from '../src/core/index.js';
import { FAKE_TWS_CONTRACTS, type FakeTwsHandle, startFakeTws } from '../src/venues/ibkr/fake-tws.js';
import { type IbkrConnectionState, IbkrVenue } from '../src/venues/ibkr/ibkr-venue.js';

// Polls `check` on the event loop until it holds; the hang guard only bounds a broken run.
async function until(check: () => boolean, what: string, guardMs = 15_000): Promise<void> {
  const stop = Date.now() + guardMs;
  while (!check()) {
    if (Date.now() > stop) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
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

describe('IBKR market data on the fake TWS', () => {
  let tws: FakeTwsHandle;
  let venue: IbkrVenue;
  const notices: { message: string; code: number }[] = [];

  beforeAll(async () => {
    tws = await startFakeTws({
      contracts: [
        ...FAKE_TWS_CONTRACTS,
        // An account without a market data subscription for this one.
        {
          conId: 272093,
          symbol: 'MSFT',
          secType: 'STK',
          currency: 'USD',
          exchange: 'SMART',
          primaryExch: 'NASDAQ',
          minTick: 0.01,
          price: 420,
          subscribed: false,
        },
      ],
      quoteIntervalMs: 20,
      realTimeBarIntervalMs: 5,
      historicalPer10Min: 1_000,
    });
    venue = new IbkrVenue({
      host: tws.host,
      port: tws.port,
      clientId: 5,
      symbols: ['AAPL/USD', 'EUR/USD', 'MSFT/USD'],
      reconnectDelayMs: 20,
      requestTimeoutMs: 5_000,
      onNotice: (message, code) => notices.push({ message, code }),
    });
    await venue.connect();
  });

  afterEach(() => {
    // The client library reports messages it cannot decode as code 505: the fake must speak the protocol exactly.
    expect(notices.filter((n) => n.code === 505 || /decod|underrun|unprocessed/i.test(n.message))).toEqual([]);
  });

  afterAll(async () => {
    await venue?.close();
    await tws?.close();
  });

  it('reads a stock ticker from a reqMktData snapshot of the resolved contract', async () => {
    const t = await venue.fetchTicker('AAPL/USD');
    expect(t).toMatchObject({ symbol: 'AAPL/USD', bid: 189.99, ask: 190.01, last: 190 });
    const req = tws.received.filter((m) => m.msgId === 1).at(-1);
    // conId, symbol, secType, exchange, currency, snapshot.
    expect([req?.tokens[3], req?.tokens[4], req?.tokens[5], req?.tokens[10], req?.tokens[12], req?.tokens[17]]).toEqual(
      ['265598', 'AAPL', 'STK', 'SMART', 'USD', '1'],
    );
  });

  it('gives forex (no trades on IDEALPRO) the mid as its last price', async () => {
    const t = await venue.fetchTicker('EUR/USD');
    expect(t.bid).toBeCloseTo(1.09995, 10);
    expect(t.ask).toBeCloseTo(1.10005, 10);
    expect(t.last).toBeCloseTo(1.1, 10);
  });

  it('gives the top of book as a one-level order book with sizes', async () => {
    const book = await venue.fetchOrderBook('AAPL/USD', 5);
    expect(book.bids).toEqual([{ price: 189.99, quantity: expect.any(Number) }]);
    expect(book.asks).toEqual([{ price: 190.01, quantity: 300 }]);
    expect(book.bids[0].quantity).toBeGreaterThan(0);
  });

  it('streams ticks until closed, then cancels the line at TWS', async () => {
    const got: Ticker[] = [];
    const sub = venue.watchTicker('AAPL/USD', (t) => got.push(t));
    await until(() => got.length >= 2, 'streamed ticks');
    tws.setPrice('AAPL', 191);
    await until(() => got.some((t) => t.last === 191 && t.bid === 190.99), 'the moved price');
    expect(tws.marketDataLines()).toBe(1);
    sub.close();
    await until(() => tws.marketDataLines() === 0, 'the cancelled line');
    const cancel = tws.received.filter((m) => m.msgId === 2).at(-1);
    const req = tws.received.filter((m) => m.msgId === 1).at(-1);
    expect(req?.tokens[17]).toBe('0');
    expect(cancel?.tokens[2]).toBe(req?.tokens[2]);
    const n = got.length;
    tws.setPrice('AAPL', 190);
    await venue.fetchServerTime(); // a round trip: any tick for the closed line would have arrived by now
    expect(got.length).toBe(n);
  });

  it('reads historical bars with the bar size, duration and data type of the timeframe and instrument', async () => {
    const bars = await venue.fetchCandles('AAPL/USD', '1m', undefined, 30);
    expect(bars.length).toBeGreaterThan(25);
    expect(bars.length).toBeLessThanOrEqual(30);
    for (let i = 1; i < bars.length; i++) expect(bars[i].time - bars[i - 1].time).toBe(60_000);
    for (const b of bars) {
      expect(b.time % 60_000).toBe(0);
      expect(b.high).toBeGreaterThanOrEqual(Math.max(b.open, b.close));
      expect(b.low).toBeLessThanOrEqual(Math.min(b.open, b.close));
    }
    const req = tws.received.filter((m) => m.msgId === 20).at(-1);
    // endDateTime, barSizeSetting, durationStr, useRTH, whatToShow, formatDate.
    expect(req?.tokens.slice(16, 22)).toEqual(['', '1 min', '1800 S', '0', 'TRADES', '2']);
    const fx = await venue.fetchCandles('EUR/USD', '1h', undefined, 48);
    expect(fx.length).toBeGreaterThan(40);
    expect(
      tws.received
        .filter((m) => m.msgId === 20)
        .at(-1)
        ?.tokens.slice(17, 21),
    ).toEqual(['1 hour', '2 D', '0', 'MIDPOINT']);
  });

  it('reads historical bars from `since` on, asking IB for the window that ends `limit` bars later', async () => {
    const since = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 10 * 3_600_000;
    const bars = await venue.fetchCandles('AAPL/USD', '5m', since, 24);
    expect(bars[0].time).toBe(since);
    expect(bars).toHaveLength(24);
    const req = tws.received.filter((m) => m.msgId === 20).at(-1);
    expect(req?.tokens[16]).toMatch(/^\d{8}-\d{2}:\d{2}:\d{2}$/);
    expect(req?.tokens[18]).toBe('7200 S');
  });

  it('builds timeframe bars from 5-second real-time bars and closes one when the next period starts', async () => {
    const updates: [Bar, boolean][] = [];
    const sub = venue.watchCandles('AAPL/USD', '1m', (b, closed) => updates.push([{ ...b }, closed]));
    await until(() => updates.filter(([, c]) => c).length >= 1, 'a closed bar');
    sub.close();
    await until(() => tws.marketDataLines() === 0, 'the cancelled real-time bars');
    const req = tws.received.filter((m) => m.msgId === 50).at(-1);
    // barSize 5, whatToShow, useRTH.
    expect(req?.tokens.slice(15, 18)).toEqual(['5', 'TRADES', '0']);
    expect(tws.received.filter((m) => m.msgId === 51).at(-1)?.tokens[2]).toBe(req?.tokens[2]);
    const [closed] = updates.find(([, c]) => c) as [Bar, boolean];
    expect(closed.time % 60_000).toBe(0);
    // The closed bar is the last forming update of its period, and its volume adds up its 5-second bars (300 each).
    const forming = updates.filter(([b, c]) => !c && b.time === closed.time).map(([b]) => b);
    expect(forming.at(-1)).toEqual(closed);
    expect(closed.volume).toBe(300 * forming.length);
    expect(closed.high).toBe(Math.max(...forming.map((b) => b.high)));
    expect(closed.low).toBe(Math.min(...forming.map((b) => b.low)));
    const later = updates.find(([b]) => b.time > closed.time);
    expect(later?.[0].time).toBe(closed.time + 60_000);
  });

  it('says which symbol lacks a market data subscription (354) without retrying, for snapshots and streams', async () => {
    const err = await venue.fetchTicker('MSFT/USD').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VenueError);
    expect((err as VenueError).code).toBe('VENUE_NO_MARKET_DATA');
    expect((err as VenueError).retryable).toBe(false);
    expect((err as Error).message).toMatch(
      /market data of MSFT\/USD: Requested market data is not subscribed.*code 354/,
    );
    const streamed: Error[] = [];
    const sub = venue.watchTicker(
      'MSFT/USD',
      () => undefined,
      (e) => streamed.push(e),
    );
    await until(() => streamed.length > 0, 'the stream error');
    sub.close();
    expect((streamed[0] as VenueError).code).toBe('VENUE_NO_MARKET_DATA');
    const hist = await venue.fetchCandles('MSFT/USD', '1m', undefined, 10).catch((e: unknown) => e);
    expect((hist as VenueError).code).toBe('VENUE_NO_MARKET_DATA');
  });

  it('reports IB pacing refusals as retryable rate limits with how long to wait', async () => {
    tws.failNext(
      'historicalData',
      162,
      'Historical Market Data Service error message:Historical data request pacing violation',
    );
    const paced = await venue.fetchCandles('AAPL/USD', '1m', undefined, 10).catch((e: unknown) => e);
    expect(paced).toBeInstanceOf(VenueError);
    expect((paced as VenueError).code).toBe('VENUE_RATE_LIMIT');
    expect((paced as VenueError).retryable).toBe(true);
    expect((paced as VenueError).retryAfterMs).toBe(15_000);
    tws.failNext('mktData', 100, 'Max rate of messages per second has been exceeded:max=50 rec=51 (1)');
    const rate = await venue.fetchTicker('AAPL/USD').catch((e: unknown) => e);
    expect((rate as VenueError).code).toBe('VENUE_RATE_LIMIT');
    expect((rate as VenueError).retryAfterMs).toBe(1_000);
    // Other historical data refusals are final: forex has no trades to show.
    tws.failNext(
      'historicalData',
      162,
      "Historical Market Data Service error message:No data of type TRADES is available for the exchange 'IDEALPRO'",
    );
    const other = await venue.fetchCandles('EUR/USD', '1m', undefined, 10).catch((e: unknown) => e);
    expect((other as VenueError).code).toBe('VENUE_REJECTED');
    expect((other as VenueError).retryable).toBe(false);
    expect(await venue.fetchTicker('AAPL/USD')).toMatchObject({ last: 190 });
  });

  it('ends streams with a retryable error when TWS drops, and serves a call made meanwhile once it is back', async () => {
    const errors: Error[] = [];
    const sub = venue.watchTicker(
      'EUR/USD',
      () => undefined,
      (e) => errors.push(e),
    );
    await until(() => tws.marketDataLines() === 1, 'the line');
    const down = nextState(venue, 'disconnected');
    const back = nextState(venue, 'connected');
    tws.dropConnections();
    await down;
    const ticker = venue.fetchTicker('EUR/USD');
    expect(errors).toHaveLength(1);
    expect((errors[0] as VenueError).retryable).toBe(true);
    expect((await ticker).last).toBeCloseTo(1.1, 10);
    await back;
    sub.close();
    expect(tws.marketDataLines()).toBe(0);
  });
});
