import { beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Runtime } from '../src/app/runtime.js';
import { readCliToken } from '../src/server/api/cli-token.js';
import { simBed, simDeployment } from './fixtures/runtime/sim-bed.js';

// The live runtime's own API producers against the exchange simulator (real ccxt on loopback): the order preview
// through the account risk engine, candles from the deployment's feed, the venue's order book and ticker stream,
// and a backtest run from the API into the runtime's store. No scripted port.
const bed = simBed('runtime-api-market', 7);
let runtime: Runtime | undefined;
let token = '';
let url = '';

beforeAll(async () => {
  const started = await bed.start({
    risk: { maxOrderNotional: 500 },
    deployments: [simDeployment('rt', { stake: '10%' })],
    runtime: { barSeconds: 1, warmupBars: 5, pollMs: 100, heartbeatSeconds: 1 },
  });
  runtime = started.runtime;
  url = runtime.url;
  token = readCliToken(started.home.run) ?? '';
}, 120_000);

const api = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
};

/** A WebSocket on the runtime; `next` resolves with the first event matching. */
async function stream(topics: string[]) {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/api/ws`, { headers: { authorization: `Bearer ${token}` } });
  const seen: { topic?: string; type: string; data?: Record<string, unknown> }[] = [];
  const waiters: { pred: (m: (typeof seen)[number]) => boolean; resolve: (m: (typeof seen)[number]) => void }[] = [];
  ws.on('message', (raw) => {
    const m = JSON.parse(raw.toString()) as (typeof seen)[number];
    seen.push(m);
    for (const w of waiters.splice(0)) w.pred(m) ? w.resolve(m) : waiters.push(w);
  });
  await new Promise((r, j) => {
    ws.once('open', r);
    ws.once('error', j);
  });
  ws.send(JSON.stringify({ op: 'subscribe', topics }));
  const next = (pred: (m: (typeof seen)[number]) => boolean) =>
    new Promise<(typeof seen)[number]>((resolve) => {
      const m = seen.find(pred);
      if (m) resolve(m);
      else waiters.push({ pred, resolve });
    });
  return { next, close: () => ws.close() };
}

describe('the live runtime API: preview, market data, backtests', () => {
  it("previews an order with the account risk engine's decision, placing and counting nothing", async () => {
    const dep = runtime!.deployments[0];
    const s = await stream(['candles']);
    await s.next((m) => m.topic === 'candles');
    s.close();
    const before = dep.risk.stats();
    const ordersBefore = bed.sim.state.orders.length;
    const big = await api('POST', '/api/orders/preview', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: 1,
    });
    expect(big.status).toBe(200);
    expect(big.json).toMatchObject({ accepted: false, code: 'MAX_NOTIONAL' });
    // 1 BTC at the last mark (the simulator ticks on, so the mark may have moved by a tick since).
    expect(Math.abs(Number(big.json.estimatedCost) / dep.engine.portfolio.last[0] - 1)).toBeLessThan(0.01);
    const price = Math.round(dep.engine.portfolio.last[0] * 0.99);
    const small = await api('POST', '/api/orders/preview', {
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'limit',
      price,
      quantity: 0.01,
    });
    expect(small.json).toEqual({ accepted: true, estimatedCost: price * 0.01 });
    expect(dep.risk.stats()).toEqual(before);
    expect(bed.sim.state.orders.length).toBe(ordersBefore);
  });

  it("serves the feed's candles, the venue's book, and streams its tickers while subscribed", async () => {
    const candles = await api('GET', '/api/market/candles?symbol=BTC/USDT&indicators=sma:2');
    expect(candles.status).toBe(200);
    const list = candles.json.candles as { time: number; close: number }[];
    const cols = runtime!.deployments[0].engine.feeds[0].columns;
    expect(list.length).toBe(cols.length);
    expect(list[list.length - 1].close).toBe(cols.close[cols.length - 1]);
    const book = await api('GET', '/api/market/orderbook?symbol=BTC/USDT&depth=5');
    expect(book.status).toBe(200);
    const bids = book.json.bids as { price: number }[];
    const asks = book.json.asks as { price: number }[];
    expect(bids.length).toBeGreaterThan(0);
    expect(asks[0].price).toBeGreaterThan(bids[0].price);
    expect(book.json.spread).toBeCloseTo(asks[0].price - bids[0].price, 9);
    const s = await stream(['tickers']);
    const tick = await s.next((m) => m.topic === 'tickers');
    expect(tick.data).toMatchObject({ symbol: 'BTC/USDT' });
    expect(Number(tick.data?.last)).toBeGreaterThan(0);
    s.close();
  });

  it("tests the simulator venue's connection with a real balance read", async () => {
    expect((await api('GET', '/api/venues')).json.venues).toEqual([{ id: 'sim', type: 'simulator', real: false }]);
    const t = await api('POST', '/api/venues/sim/test');
    expect(t.status).toBe(200);
    expect(t.json.ok).toBe(true);
    expect(String(t.json.message)).toMatch(/^sim answered: \d+ balance\(s\)$/);
  });

  it('runs a backtest from the API and stores it in the runtime store', async () => {
    const s = await stream(['backtest']);
    const start = await api('POST', '/api/backtests', { strategy: 'ema-cross' });
    expect(start.status).toBe(202);
    const done = await s.next(
      (m) =>
        m.topic === 'backtest' && m.data?.job === start.json.job && ['done', 'failed'].includes(String(m.data?.status)),
    );
    s.close();
    expect(done.data?.error).toBeUndefined();
    const run = await api('GET', `/api/backtests/${String(done.data?.backtestId)}?trades=1`);
    expect(run.status).toBe(200);
    expect(run.json.strategy).toBe('ema-cross');
    expect((run.json.equity as { time: number[] }).time.length).toBeGreaterThan(100);
  });
});
