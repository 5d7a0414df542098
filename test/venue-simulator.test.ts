/** The exchange simulator speaks Binance's signed REST API and keeps an exact record of orders and balances. */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

let sim: SimulatorHandle;

beforeAll(async () => {
  sim = await startSimulator({ seed: 3, tickIntervalMs: 0, balances: { USDT: 1_000_000, BTC: 1, ETH: 10 } });
});
afterAll(async () => sim.close());

async function signed(
  method: string,
  path: string,
  params: Record<string, string | number>,
  opts: { secret?: string; key?: string; ts?: number } = {},
) {
  const q = new URLSearchParams({
    ...Object.fromEntries(Object.entries(params).map(([k, v]) => [k, String(v)])),
    timestamp: String(opts.ts ?? Date.now()),
  }).toString();
  const sig = createHmac('sha256', opts.secret ?? sim.secret)
    .update(q)
    .digest('hex');
  const body = `${q}&signature=${sig}`;
  const headers = { 'X-MBX-APIKEY': opts.key ?? sim.apiKey, 'Content-Type': 'application/x-www-form-urlencoded' };
  const res =
    method === 'POST'
      ? await fetch(`${sim.url}${path}`, { method, headers, body })
      : await fetch(`${sim.url}${path}?${body}`, { method, headers });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> & { code?: number; msg?: string } };
}

describe('simulator request signing', () => {
  it('accepts a correct HMAC-SHA256 signature', async () => {
    const r = await signed('GET', '/api/v3/account', {});
    expect(r.status).toBe(200);
    expect(r.json.accountType).toBe('SPOT');
  });

  it('rejects a bad signature with -1022, a wrong key with -2015, a stale timestamp with -1021', async () => {
    expect((await signed('GET', '/api/v3/account', {}, { secret: 'nope' })).json.code).toBe(-1022);
    expect((await signed('GET', '/api/v3/account', {}, { key: 'nope' })).json.code).toBe(-2015);
    expect((await signed('GET', '/api/v3/account', {}, { ts: Date.now() - 60_000 })).json.code).toBe(-1021);
    const unsigned = await fetch(`${sim.url}/api/v3/account?timestamp=${Date.now()}`, {
      headers: { 'X-MBX-APIKEY': sim.apiKey },
    });
    expect(((await unsigned.json()) as { code: number }).code).toBe(-1102);
  });
});

describe('simulator orders', () => {
  it('rejects a duplicate open client order id with -2010 and unknown lookups with -2013', async () => {
    const p = {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '0.001',
      price: '20000.00',
      newClientOrderId: 'dup-1',
    };
    expect((await signed('POST', '/api/v3/order', p)).status).toBe(200);
    const again = await signed('POST', '/api/v3/order', p);
    expect(again.json).toEqual({ code: -2010, msg: 'Duplicate order sent.' });
    expect(sim.state.orders.filter((o) => o.clientOrderId === 'dup-1')).toHaveLength(1);
    expect((await signed('GET', '/api/v3/order', { symbol: 'BTCUSDT', origClientOrderId: 'never' })).json).toEqual({
      code: -2013,
      msg: 'Order does not exist.',
    });
    expect((await signed('POST', '/api/v3/order', { ...p, newClientOrderId: 'x', price: '20000.001' })).json.msg).toBe(
      'Filter failure: PRICE_FILTER',
    );
    expect(
      (await signed('POST', '/api/v3/order', { ...p, newClientOrderId: 'y', quantity: '0.0000001' })).json.msg,
    ).toBe('Filter failure: LOT_SIZE');
    expect(
      (await signed('POST', '/api/v3/order', { ...p, newClientOrderId: 'z', quantity: '0.0001', price: '100.00' })).json
        .msg,
    ).toBe('Filter failure: NOTIONAL');
  });

  it('locks funds for a resting limit and fills it when the price crosses', async () => {
    const usdt = sim.state.balance('USDT');
    const btc = sim.state.balance('BTC');
    const free0 = usdt.free;
    const btc0 = btc.free;
    const r = await signed('POST', '/api/v3/order', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '0.01',
      price: '29000.00',
      newClientOrderId: 'cross-1',
    });
    expect(r.json.status).toBe('NEW');
    expect(usdt.free).toBeCloseTo(free0 - 290, 6);
    sim.setPrice('BTCUSDT', 28_900);
    const o = sim.state.orders.find((x) => x.clientOrderId === 'cross-1')!;
    expect(o.status).toBe('FILLED');
    expect(o.fills[0].price).toBe(29_000);
    expect(o.fills[0].isMaker).toBe(true);
    expect(btc.free).toBeCloseTo(btc0 + 0.01 * (1 - 0.001), 10);
    expect(usdt.free).toBeCloseTo(free0 - 290, 6);
  });

  it('refuses a stop that would trigger at once and triggers a resting stop-limit', async () => {
    sim.setPrice('ETHUSDT', 2_000);
    const base = {
      symbol: 'ETHUSDT',
      side: 'SELL',
      type: 'STOP_LOSS_LIMIT',
      timeInForce: 'GTC',
      quantity: '0.5',
      price: '1890.00',
    };
    expect(
      (await signed('POST', '/api/v3/order', { ...base, stopPrice: '2100.00', newClientOrderId: 's0' })).json.msg,
    ).toBe('Stop price would trigger immediately.');
    expect(
      (await signed('POST', '/api/v3/order', { ...base, stopPrice: '1900.00', newClientOrderId: 's1' })).json.status,
    ).toBe('NEW');
    sim.setPrice('ETHUSDT', 1_950);
    expect(sim.state.orders.find((o) => o.clientOrderId === 's1')!.status).toBe('NEW');
    sim.setPrice('ETHUSDT', 1_899);
    const o = sim.state.orders.find((x) => x.clientOrderId === 's1')!;
    expect(o.status).toBe('FILLED');
    expect(o.fills.every((f) => f.price >= 1_890)).toBe(true);
  });

  it('walks the book for a large market order and expires the rest', async () => {
    sim.setPrice('BTCUSDT', 30_000);
    const depth = sim.state.market('BTCUSDT').asks.reduce((s, l) => s + l.qty, 0);
    const qty = Math.ceil((depth + 1) * 1e5) / 1e5;
    const r = await signed('POST', '/api/v3/order', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'MARKET',
      quantity: qty.toFixed(5),
      newClientOrderId: 'big-1',
    });
    expect(r.json.status).toBe('EXPIRED');
    expect(Number(r.json.executedQty)).toBeCloseTo(depth, 8);
    const fills = r.json.fills as { price: string }[];
    expect(fills.length).toBe(20);
    expect(Number(fills[19].price)).toBeGreaterThan(Number(fills[0].price));
  });

  // A client on the user-data stream makes no REST requests: a test that moves the price must have the market
  // streams print it by itself (test/runtime-parity.test.ts waited a minute per bar for an unrelated request).
  it('prints a price moved with match: false on the market streams, and executes nothing until matched', async () => {
    sim.setPrice('BTCUSDT', 30_000);
    const ws = new WebSocket(sim.wsUrl);
    await new Promise((r, j) => ws.once('open', r).once('error', j));
    const books: { b: string; a: string }[] = [];
    const subscribed = new Promise<void>((r) =>
      ws.on('message', (data) => {
        const msg = JSON.parse(String(data)) as { id?: number; b?: string; a?: string };
        if (msg.id === 1) r();
        else if (msg.b !== undefined && msg.a !== undefined) books.push({ b: msg.b, a: msg.a });
      }),
    );
    ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@ticker'], id: 1 }));
    await subscribed;
    const r = await signed('POST', '/api/v3/order', {
      symbol: 'BTCUSDT',
      side: 'BUY',
      type: 'LIMIT',
      timeInForce: 'GTC',
      quantity: '0.01',
      price: '29500.00',
      newClientOrderId: 'print-first-1',
    });
    expect(r.json.status).toBe('NEW');
    const printed = books.length;
    const arrived = new Promise<void>((r) => ws.once('message', () => r()));
    sim.setPrice('BTCUSDT', 29_000, { match: false });
    await arrived;
    const after = books.slice(printed);
    expect(Number(after[after.length - 1].a)).toBeLessThan(29_500);
    const o = sim.state.orders.find((x) => x.clientOrderId === 'print-first-1')!;
    expect(o.status).toBe('NEW');
    sim.setPrice('BTCUSDT', 29_000);
    expect(o.status).toBe('FILLED');
    ws.close();
  });
});
