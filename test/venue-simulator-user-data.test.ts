/**
 * The simulator's user-data stream, both of Binance's ways: the WebSocket API signature subscription (what ccxt's
 * binance uses for spot) and the listen-key stream with keepalive and expiry on the exchange's clock.
 */
import { createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { waitFor } from './ops-fakes.js';

type Msg = Record<string, unknown>;

let sim: SimulatorHandle | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const ws of sockets) ws.terminate();
  sockets.length = 0;
  await sim?.close();
  sim = undefined;
});

/** A client socket that keeps every message and its close. */
async function open(url: string): Promise<{ ws: WebSocket; got: Msg[]; closed: () => boolean }> {
  const ws = new WebSocket(url);
  sockets.push(ws);
  const got: Msg[] = [];
  let isClosed = false;
  ws.on('message', (d) => got.push(JSON.parse(String(d)) as Msg));
  ws.on('close', () => {
    isClosed = true;
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('close', () => resolve());
  });
  return { ws, got, closed: () => isClosed };
}

function signParams(secret: string, apiKey: string, ts = Date.now()): Record<string, string | number> {
  const params: Record<string, string | number> = { apiKey, timestamp: ts };
  const q = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join('&');
  return { ...params, signature: createHmac('sha256', secret).update(q).digest('hex') };
}

const userDataStream = (s: SimulatorHandle, method: string, listenKey?: string, key = s.apiKey) =>
  fetch(`${s.url}/api/v3/userDataStream${listenKey ? `?listenKey=${listenKey}` : ''}`, {
    method,
    headers: { 'X-MBX-APIKEY': key },
  }).then(async (r) => ({ status: r.status, json: (await r.json()) as Msg }));

describe('simulator user-data stream over the WebSocket API', () => {
  it('subscribes with a signature and pushes executionReport and outboundAccountPosition', async () => {
    sim = await startSimulator({ seed: 4, tickIntervalMs: 0 });
    const c = await open(`ws://127.0.0.1:${new URL(sim.url).port}/ws-api/v3`);
    c.ws.send(
      JSON.stringify({ id: 'bad', method: 'userDataStream.subscribe.signature', params: signParams('x', sim.apiKey) }),
    );
    c.ws.send(
      JSON.stringify({
        id: '1',
        method: 'userDataStream.subscribe.signature',
        params: signParams(sim.secret, sim.apiKey),
      }),
    );
    await waitFor(() => c.got.length >= 2, 5_000, 'subscribe answers');
    expect(c.got[0]).toMatchObject({ id: 'bad', status: 400, error: { code: -1022 } });
    expect(c.got[1]).toMatchObject({ id: '1', status: 200, result: { subscriptionId: 0 } });
    expect(sim.userData.subscriptions()).toBe(1);

    const o = sim.state.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: 0.01 }, 'cid-1');
    const trades = sim.state.trades.filter((t) => t.orderId === o.orderId);
    // NEW, one TRADE per execution, each followed by the account position.
    await waitFor(() => c.got.length >= 2 + 2 * (1 + trades.length), 5_000, 'events');
    const events = c.got.slice(2).map((m) => {
      expect(m.subscriptionId).toBe(0);
      return m.event as Msg;
    });
    const reports = events.filter((e) => e.e === 'executionReport');
    expect(reports.map((r) => r.x)).toEqual(['NEW', ...trades.map(() => 'TRADE')]);
    expect(reports[0]).toMatchObject({
      s: 'BTCUSDT',
      c: 'cid-1',
      S: 'BUY',
      o: 'MARKET',
      X: 'NEW',
      i: o.orderId,
      t: -1,
    });
    const last = reports.at(-1)!;
    const t = trades.at(-1)!;
    expect(last).toMatchObject({
      X: 'FILLED',
      t: t.id,
      l: t.qty.toFixed(8),
      L: t.price.toFixed(8),
      n: t.commission.toFixed(8),
      N: 'BTC',
      z: o.executedQty.toFixed(8),
      Z: o.cummulativeQuoteQty.toFixed(8),
      m: false,
    });
    const position = events.filter((e) => e.e === 'outboundAccountPosition').at(-1)!;
    const btc = (position.B as { a: string; f: string }[]).find((b) => b.a === 'BTC')!;
    expect(btc.f).toBe(sim.state.balances.get('BTC')!.free.toFixed(8));
  });

  it('drops user-data sockets on the fault hook and refuses the upgrade during an outage', async () => {
    sim = await startSimulator({ seed: 4, tickIntervalMs: 0 });
    const url = `ws://127.0.0.1:${new URL(sim.url).port}/ws-api/v3`;
    const c = await open(url);
    expect(sim.faults.dropUserDataStreams()).toBe(1);
    await waitFor(() => c.closed(), 5_000, 'dropped');
    sim.faults.refuseWebSockets = true;
    await expect(open(url)).rejects.toThrow(/503/);
  });
});

describe('simulator listen-key stream', () => {
  it('creates, keeps alive and expires listen keys on the exchange clock', async () => {
    let now = Date.UTC(2026, 0, 5, 12);
    sim = await startSimulator({ seed: 4, tickIntervalMs: 0, now: () => now, requestClock: Date.now });
    expect((await userDataStream(sim, 'POST', undefined, 'wrong')).json.code).toBe(-2015);
    const created = await userDataStream(sim, 'POST');
    const listenKey = String(created.json.listenKey);
    expect(listenKey.length).toBeGreaterThan(20);
    const c = await open(`ws://127.0.0.1:${new URL(sim.url).port}/ws/${listenKey}`);

    sim.state.placeOrder({ symbol: 'BTCUSDT', side: 'SELL', type: 'MARKET', quantity: 0.01 }, 'cid-2');
    await waitFor(() => c.got.some((m) => m.e === 'executionReport' && m.X === 'FILLED'), 5_000, 'raw events');
    expect(c.got.find((m) => m.e === 'executionReport')).toMatchObject({ c: 'cid-2', S: 'SELL' });

    // 59 minutes, keepalive, 59 more: still alive (60 min counts from the keepalive).
    now += 59 * 60_000;
    sim.tick();
    expect((await userDataStream(sim, 'PUT', listenKey)).status).toBe(200);
    now += 59 * 60_000;
    sim.tick();
    expect(c.closed()).toBe(false);
    expect(sim.userData.stats.expired).toBe(0);
    // Past 60 minutes without keepalive: listenKeyExpired, socket closed, key unknown.
    now += 2 * 60_000;
    sim.tick();
    await waitFor(() => c.closed(), 5_000, 'expired socket closed');
    expect(c.got.at(-1)).toMatchObject({ e: 'listenKeyExpired', listenKey });
    expect((await userDataStream(sim, 'PUT', listenKey)).json.code).toBe(-1125);
    const refused = await open(`ws://127.0.0.1:${new URL(sim.url).port}/ws/${listenKey}`);
    await waitFor(() => refused.closed(), 5_000, 'expired key refused');
    // Renewal is a new key.
    const renewed = String((await userDataStream(sim, 'POST')).json.listenKey);
    expect(renewed).not.toBe(listenKey);
    const c2 = await open(`ws://127.0.0.1:${new URL(sim.url).port}/ws/${renewed}`);
    sim.state.placeOrder({ symbol: 'BTCUSDT', side: 'BUY', type: 'MARKET', quantity: 0.01 }, 'cid-3');
    await waitFor(() => c2.got.some((m) => m.c === 'cid-3'), 5_000, 'events on the renewed key');
    expect((await userDataStream(sim, 'DELETE', renewed)).status).toBe(200);
    await waitFor(() => c2.closed(), 5_000, 'closed key');
  });

  it('expires after a configured TTL', async () => {
    let now = Date.UTC(2026, 0, 5, 12);
    sim = await startSimulator({
      seed: 4,
      tickIntervalMs: 0,
      now: () => now,
      requestClock: Date.now,
      listenKeyTtlMs: 1_000,
    });
    const listenKey = String((await userDataStream(sim, 'POST')).json.listenKey);
    now += 999;
    expect(sim.userData.expire()).toBe(0);
    now += 1;
    expect(sim.userData.expire()).toBe(1);
    expect((await userDataStream(sim, 'PUT', listenKey)).json.code).toBe(-1125);
  });
});
