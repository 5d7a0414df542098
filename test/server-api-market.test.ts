import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type ApiFixture, call, login, type Session, startApiFixture } from './server-api-fixture.js';
import { MARKET_T0 } from './server-api-market-fixture.js';

let fx: ApiFixture;
let viewer: Session;

beforeAll(async () => {
  fx = await startApiFixture({ loginsPerMinute: 1000 });
  viewer = await login(fx, 'viewer');
});
afterAll(async () => {
  await fx?.close();
});

const get = (path: string, headers: Record<string, string> = viewer.headers) => call(fx, 'GET', path, { headers });

interface Msg {
  type: string;
  topic?: string;
  key?: string;
  data?: Record<string, unknown>;
}

/** Opens the stream, subscribes, and collects messages; `next` waits for one matching. */
async function stream(topics: string[]) {
  const ws = new WebSocket(`ws://127.0.0.1:${fx.port}/api/ws`, { headers: { cookie: viewer.cookie } });
  const messages: Msg[] = [];
  const waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  ws.on('message', (raw) => {
    const m = JSON.parse(raw.toString()) as Msg;
    messages.push(m);
    for (const w of waiters.splice(0)) {
      if (w.pred(m)) w.resolve(m);
      else waiters.push(w);
    }
  });
  const next = (pred: (m: Msg) => boolean) =>
    new Promise<Msg>((resolve) => {
      const seen = messages.find(pred);
      if (seen) resolve(seen);
      else waiters.push({ pred, resolve });
    });
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  ws.send(JSON.stringify({ op: 'subscribe', topics }));
  await next((m) => m.type === 'subscribed');
  return {
    next,
    close: () =>
      new Promise<void>((r) => {
        ws.once('close', () => r());
        ws.close();
      }),
  };
}

describe('market routes', () => {
  it('lists the traded symbols with their timeframe', async () => {
    const r = await get('/api/market/symbols');
    expect(r.status).toBe(200);
    expect(r.json.symbols).toEqual([{ symbol: 'BTC/USDT', deployment: 'demo', timeframe: '1m' }]);
  });

  it("serves the feed's candles with volume, cut to the limit, and overlays from the indicators module", async () => {
    const r = await get('/api/market/candles?symbol=BTC/USDT&limit=50&indicators=sma:20;bbands:20,2');
    expect(r.status).toBe(200);
    const candles = r.json.candles as { time: number; close: number; volume: number }[];
    expect(candles).toHaveLength(50);
    const last = fx.runtime.scriptedMarket.columns.length - 1;
    expect(candles[49].time).toBe(fx.runtime.scriptedMarket.columns.time[last]);
    expect(candles[49].volume).toBe(fx.runtime.scriptedMarket.columns.volume[last]);
    const overlays = r.json.overlays as { name: string; values: (number | null)[] }[];
    expect(overlays.map((o) => o.name)).toEqual(['sma_20', 'bb_lower_20_2', 'bb_middle_20_2', 'bb_upper_20_2']);
    // Computed over all held bars, so even the first returned candle has its 20-bar average.
    const cols = fx.runtime.scriptedMarket.columns;
    let sum = 0;
    for (let i = last - 19; i <= last; i++) sum += cols.close[i];
    expect(overlays[0].values[49]).toBeCloseTo(sum / 20, 9);
    expect(overlays[0].values[0]).not.toBeNull();
  });

  it('aggregates to a larger timeframe (15m: open first, close last, volume summed)', async () => {
    const r = await get('/api/market/candles?symbol=BTC/USDT&timeframe=15m&limit=1000');
    expect(r.status).toBe(200);
    const candles = r.json.candles as { time: number; open: number; close: number; volume: number }[];
    const cols = fx.runtime.scriptedMarket.columns;
    expect(candles[0].time).toBe(MARKET_T0);
    expect(candles[0].open).toBe(cols.open[0]);
    expect(candles[0].close).toBe(cols.close[14]);
    let volume = 0;
    for (let i = 0; i < 15; i++) volume += cols.volume[i];
    expect(candles[0].volume).toBe(volume);
    expect(r.json.timeframe).toBe('15m');
  });

  it('answers 400 naming the field for an unknown symbol, a smaller timeframe, a bad indicator or limit', async () => {
    const cases: [string, string][] = [
      ['/api/market/candles?symbol=DOGE/USDT', 'query.symbol: no deployment trades DOGE/USDT'],
      ['/api/market/candles?symbol=BTC/USDT&timeframe=1w&limit=0', 'query.limit'],
      ['/api/market/candles?symbol=BTC/USDT&timeframe=2m', 'query.timeframe'],
      ['/api/market/candles?symbol=BTC/USDT&indicators=wiggle:3', 'query.indicators: indicator "wiggle:3"'],
      ['/api/market/orderbook?symbol=DOGE/USDT', 'query.symbol: no deployment trades DOGE/USDT'],
      ['/api/market/orderbook?symbol=BTC/USDT&depth=500', 'query.depth'],
      ['/api/market/candles', 'query.symbol'],
    ];
    for (const [path, message] of cases) {
      const r = await get(path);
      expect(r.status, path).toBe(400);
      expect(String(r.json.message), path).toContain(message);
      expect((r.json.fields as { field: string }[])[0].field, path).toBe(message.split(':')[0]);
    }
  });

  it('refuses every market route without a session (401)', async () => {
    for (const path of [
      '/api/market/symbols',
      '/api/market/candles?symbol=BTC/USDT',
      '/api/market/orderbook?symbol=BTC/USDT',
    ]) {
      expect((await get(path, {})).status, path).toBe(401);
    }
  });

  it('serves the order book best levels first, cut to the depth, with the spread', async () => {
    const r = await get('/api/market/orderbook?symbol=BTC/USDT&depth=2');
    expect(r.status).toBe(200);
    expect(r.json.bids).toEqual([
      { price: 99.5, quantity: 2 },
      { price: 99, quantity: 5 },
    ]);
    expect((r.json.asks as unknown[]).length).toBe(2);
    expect(r.json.spread).toBe(1);
  });
});

describe('market streams', () => {
  it('publishes each closed bar on the candles topic', async () => {
    const s = await stream(['candles']);
    const m = fx.runtime.scriptedMarket;
    const t = m.nextTime;
    m.close(t, 101, 103, 100, 102.5, 42);
    const e = await s.next((x) => x.type === 'event' && x.topic === 'candles');
    expect(e.key).toBe('BTC/USDT');
    expect(e.data).toEqual({
      symbol: 'BTC/USDT',
      deployment: 'demo',
      timeframe: '1m',
      candle: { time: t, open: 101, high: 103, low: 100, close: 102.5, volume: 42 },
    });
    await s.close();
  });

  it('watches the venue for tickers and books only while a client listens', async () => {
    const v = fx.runtime.scriptedMarket.venue;
    expect(v.tickerWatchers.size).toBe(0);
    const a = await stream(['tickers', 'orderbook']);
    const b = await stream(['tickers']);
    expect(v.tickerWatchers.size).toBe(1);
    expect(v.bookWatchers.size).toBe(1);
    v.pushTicker({ symbol: 'BTC/USDT', time: 5, bid: 99.9, ask: 100.1, last: 100 });
    v.pushBook({
      symbol: 'BTC/USDT',
      time: 6,
      bids: [{ price: 99.8, quantity: 1 }],
      asks: [{ price: 100.3, quantity: 2 }],
    });
    const tick = await a.next((x) => x.topic === 'tickers');
    expect(tick.data).toEqual({ symbol: 'BTC/USDT', bid: 99.9, ask: 100.1, last: 100, time: 5 });
    const book = await a.next((x) => x.topic === 'orderbook');
    expect(book.data?.spread).toBeCloseTo(0.5, 9);
    await b.next((x) => x.topic === 'tickers');
    await a.close();
    // One listener left on tickers: the ticker stream stays, the book stream stops.
    await until(() => v.bookWatchers.size === 0);
    expect(v.tickerWatchers.size).toBe(1);
    await b.close();
    await until(() => v.tickerWatchers.size === 0);
  });
});

// Waits on the server's close handling (an event the test cannot see directly) by polling each loop turn.
async function until(cond: () => boolean) {
  while (!cond()) await new Promise((r) => setImmediate(r));
}
