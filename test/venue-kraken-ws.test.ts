/**
 * The Kraken mode's private WebSocket v2, driven as a raw client (no ccxt): a token from a signed
 * `GetWebSocketsToken`, the `executions` subscription and its acknowledgement, the snapshot, the events of a placement,
 * a partial fill, a cancel and a market fill with their fees in quote, ping/pong and heartbeats, and Kraken's refusal
 * of a bad or expired token (a token held by a live subscription does not expire).
 */
import { createHash, createHmac } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { tradeTxid } from '../src/venues/simulator/kraken-format.js';
import { type KrakenSimulatorHandle, startKrakenSimulator } from '../src/venues/simulator/index.js';
import { waitFor } from './fixtures/wait.js';

type Msg = Record<string, unknown> & { data?: Record<string, unknown>[] };

let sim: KrakenSimulatorHandle | undefined;
const sockets: WebSocket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  await sim?.close();
  sim = undefined;
});

let nonce = Date.now() * 1000;
// Kraken's signature, computed as Kraken documents it (not by ccxt).
async function token(s: KrakenSimulatorHandle, key = s.apiKey): Promise<{ error: string[]; result?: Msg }> {
  const path = '/0/private/GetWebSocketsToken';
  const n = String(++nonce);
  const body = `nonce=${n}`;
  const digest = createHash('sha256')
    .update(n + body)
    .digest();
  const sign = createHmac('sha512', Buffer.from(s.secret, 'base64'))
    .update(Buffer.concat([Buffer.from(path), digest]))
    .digest('base64');
  const res = await fetch(`${s.url}${path}`, {
    method: 'POST',
    headers: { 'API-Key': key, 'API-Sign': sign, 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
  });
  return (await res.json()) as { error: string[]; result?: Msg };
}

async function connect(s: KrakenSimulatorHandle): Promise<{ ws: WebSocket; msgs: Msg[] }> {
  const ws = new WebSocket(s.wsUrl);
  sockets.push(ws);
  const msgs: Msg[] = [];
  ws.on('message', (d) => msgs.push(JSON.parse(String(d)) as Msg));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, msgs };
}

const answerTo = (msgs: Msg[], reqId: number) => msgs.find((m) => m.req_id === reqId);
const executions = (msgs: Msg[]) =>
  msgs.filter((m) => m.channel === 'executions' && m.type === 'update').flatMap((m) => m.data ?? []);

async function subscribed(s: KrakenSimulatorHandle, params: Record<string, unknown> = {}) {
  const t = (await token(s)).result!.token as string;
  const c = await connect(s);
  c.ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'executions', token: t, ...params }, req_id: 7 }));
  await waitFor('the subscription answer', () => answerTo(c.msgs, 7) !== undefined);
  return { ...c, token: t };
}

describe('Kraken mode private WebSocket v2', () => {
  it('issues a token over signed REST only, and refuses a subscribe with an unknown token as Kraken does', async () => {
    sim = await startKrakenSimulator({ seed: 1, tickIntervalMs: 0 });
    const good = await token(sim);
    expect(good.error).toEqual([]);
    expect(good.result).toMatchObject({ expires: 900 });
    expect(String(good.result?.token)).toMatch(/^[A-Za-z0-9+/]{40,}$/);
    expect(await token(sim, 'other-key')).toEqual({ error: ['EAPI:Invalid key'] });

    const { ws, msgs } = await connect(sim);
    await waitFor('the status banner', () => msgs.length > 0);
    expect(msgs[0]).toMatchObject({
      channel: 'status',
      type: 'update',
      data: [{ system: 'online', api_version: 'v2' }],
    });
    ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'executions', token: 'made-up' }, req_id: 3 }));
    await waitFor('the refusal', () => answerTo(msgs, 3) !== undefined);
    expect(answerTo(msgs, 3)).toMatchObject({
      error: 'ESession:Invalid session',
      method: 'subscribe',
      success: false,
      status: 'error',
    });
    ws.send(JSON.stringify({ method: 'ping', req_id: 4 }));
    await waitFor('pong', () => answerTo(msgs, 4) !== undefined);
    expect(answerTo(msgs, 4)).toMatchObject({ method: 'pong' });
    expect(sim.ws.stats).toMatchObject({ tokensIssued: 1, subscribes: 0, refused: 1 });
    // Market data belongs to the public host, as on Kraken.
    ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'ticker', symbol: ['BTC/USD'] }, req_id: 5 }));
    await waitFor('the public refusal', () => answerTo(msgs, 5) !== undefined);
    expect(String(answerTo(msgs, 5)?.error)).toMatch(/unavailable on this endpoint/);
  });

  it('acknowledges the subscription, sends the open orders as a snapshot, then every event with fees in quote', async () => {
    sim = await startKrakenSimulator({ seed: 2, tickIntervalMs: 0, wsHeartbeatMs: 20 });
    const s = sim;
    const mid = s.state.market('XXBTZUSD').last;
    const resting = s.state.placeOrder(
      {
        symbol: 'XXBTZUSD',
        side: 'BUY',
        type: 'LIMIT',
        quantity: 0.01,
        price: Math.floor(mid * 0.9),
        timeInForce: 'GTC',
      },
      'rest-1',
    );
    const { msgs, ws } = await subscribed(s);
    expect(answerTo(msgs, 7)).toMatchObject({
      method: 'subscribe',
      success: true,
      result: { channel: 'executions', snapshot: true },
    });
    await waitFor('the snapshot', () => msgs.some((m) => m.type === 'snapshot'));
    const snap = msgs.find((m) => m.type === 'snapshot')!;
    expect(snap.data).toEqual([
      expect.objectContaining({
        order_id: expect.stringMatching(/^O/),
        cl_ord_id: 'rest-1',
        symbol: 'BTC/USD',
        side: 'buy',
        order_type: 'limit',
        order_qty: 0.01,
        limit_price: resting.price,
        order_status: 'new',
      }),
    ]);
    await waitFor('a heartbeat', () => msgs.some((m) => m.channel === 'heartbeat'));
    // One subscription per connection; trading over the socket is not served.
    ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'executions', token: 'x' }, req_id: 8 }));
    ws.send(JSON.stringify({ method: 'add_order', params: { order_type: 'market' }, req_id: 9 }));
    await waitFor('both answers', () => answerTo(msgs, 8) !== undefined && answerTo(msgs, 9) !== undefined);
    expect(answerTo(msgs, 8)).toMatchObject({ success: false, error: 'ESession:Invalid session' });
    expect(answerTo(msgs, 9)).toMatchObject({ success: false, error: 'Event(s) not found', method: 'add_order' });

    // A marketable limit capped at half its quantity (the partial-fill fault): it trades 0.01, rests the rest, and is
    // cancelled.
    s.state.pendingPartialFill = 0.5;
    const part = s.state.placeOrder(
      {
        symbol: 'XXBTZUSD',
        side: 'BUY',
        type: 'LIMIT',
        quantity: 0.02,
        price: Math.ceil(mid * 1.01),
        timeInForce: 'GTC',
      },
      'part-1',
    );
    expect(part.status).toBe('PARTIALLY_FILLED');
    s.state.cancelOrder('XXBTZUSD', part.orderId);
    await waitFor('the cancel event', () => executions(msgs).some((e) => e.exec_type === 'canceled'));
    const ofPart = executions(msgs).filter((e) => e.cl_ord_id === 'part-1');
    const kinds = ofPart.map((e) => e.exec_type);
    expect(kinds.slice(0, 2)).toEqual(['pending_new', 'new']);
    expect(kinds.at(-1)).toBe('canceled');
    const partTrades = ofPart.slice(2, -1);
    expect(partTrades.every((e) => e.exec_type === 'trade' && e.order_status === 'partially_filled')).toBe(true);
    expect(partTrades.map((e) => e.exec_id)).toEqual(part.fills.map((f) => tradeTxid(f.id)));
    expect(partTrades.reduce((sum, e) => sum + (e.last_qty as number), 0)).toBeCloseTo(0.01, 10);
    const pending = ofPart[0];
    const cancelled = ofPart.at(-1)!;
    expect(pending).toMatchObject({
      symbol: 'BTC/USD',
      order_qty: 0.02,
      order_status: 'pending_new',
      fee_ccy_pref: 'fciq',
    });
    const t = part.fills[0];
    expect(partTrades[0]).toMatchObject({
      exec_id: tradeTxid(t.id),
      trade_id: t.id,
      symbol: 'BTC/USD',
      side: 'buy',
      last_qty: t.qty,
      last_price: t.price,
      liquidity_ind: 't',
      cost: Number(t.quoteQty.toFixed(8)),
      fees: [{ asset: 'USD', qty: Number(t.commission.toFixed(8)) }],
    });
    expect(t.commission).toBeGreaterThan(0);
    expect(cancelled).toMatchObject({ order_status: 'canceled', cum_qty: 0.01, reason: 'User requested' });
    // Later events carry the order id and what changed, as Kraken streams them.
    expect(cancelled.symbol).toBeUndefined();

    // A market order: placed, two-sided book walked, filled, then `filled` with the totals.
    const mkt = s.state.placeOrder({ symbol: 'XXBTZUSD', side: 'SELL', type: 'MARKET', quantity: 0.05 }, 'mkt-1');
    await waitFor('the filled event', () =>
      executions(msgs).some((e) => e.cl_ord_id === 'mkt-1' && e.exec_type === 'filled'),
    );
    const ofMkt = executions(msgs).filter((e) => e.cl_ord_id === 'mkt-1');
    const trades = ofMkt.filter((e) => e.exec_type === 'trade');
    expect(trades.length).toBe(mkt.fills.length);
    expect(trades.map((e) => e.exec_id)).toEqual(mkt.fills.map((f) => tradeTxid(f.id)));
    expect(ofMkt.at(-1)).toMatchObject({ exec_type: 'filled', order_status: 'filled', cum_qty: 0.05 });
    const fee = trades.reduce((sum, e) => sum + (e.fees as { qty: number }[])[0].qty, 0);
    expect(fee).toBeCloseTo(
      mkt.fills.reduce((sum, f) => sum + f.commission, 0),
      6,
    );
    // One message per event, numbered on the connection without gaps.
    const seq = msgs.filter((m) => m.channel === 'executions' && m.type !== undefined).map((m) => m.sequence as number);
    expect(seq).toEqual(seq.map((_, i) => i + 1));
    ws.close();
  });

  it('expires an unused token after 15 minutes, keeps one a live subscription holds, and drops and refuses sockets', async () => {
    sim = await startKrakenSimulator({ seed: 3, tickIntervalMs: 0 });
    const s = sim;
    const unused = (await token(s)).result!.token as string;
    const held = await subscribed(s);
    // Sixteen minutes later on the venue's clock.
    s.state.clockOffsetMs += 16 * 60_000;
    const late = await connect(s);
    late.ws.send(JSON.stringify({ method: 'subscribe', params: { channel: 'executions', token: unused }, req_id: 1 }));
    await waitFor('the expired token refused', () => answerTo(late.msgs, 1) !== undefined);
    expect(answerTo(late.msgs, 1)).toMatchObject({ error: 'ESession:Invalid session', success: false });
    // The held token is still good while its subscription lives, and events still flow.
    late.ws.send(
      JSON.stringify({ method: 'subscribe', params: { channel: 'executions', token: held.token }, req_id: 2 }),
    );
    await waitFor('the held token accepted', () => answerTo(late.msgs, 2) !== undefined);
    expect(answerTo(late.msgs, 2)).toMatchObject({ success: true });
    s.state.placeOrder({ symbol: 'XXBTZUSD', side: 'BUY', type: 'MARKET', quantity: 0.001 }, 'late-1');
    await waitFor('events on both', () =>
      [held.msgs, late.msgs].every((m) => executions(m).some((e) => e.exec_type === 'filled')),
    );
    late.ws.send(
      JSON.stringify({ method: 'subscribe', params: { channel: 'executions', token: held.token }, req_id: 4 }),
    );
    await waitFor('the second subscribe refused', () => answerTo(late.msgs, 4) !== undefined);
    expect(answerTo(late.msgs, 4)).toMatchObject({ success: false, error: 'Already subscribed' });
    late.ws.send(JSON.stringify({ method: 'unsubscribe', params: { channel: 'executions' }, req_id: 5 }));
    await waitFor('the unsubscribe', () => answerTo(late.msgs, 5) !== undefined);
    expect(answerTo(late.msgs, 5)).toMatchObject({ success: true, result: { channel: 'executions' } });
    expect(s.ws.subscriptions()).toBe(1);
    // Both sockets die: the token ages again and, past its 15 minutes, is refused.
    expect(s.faults.dropWebSockets()).toBe(2);
    expect(s.ws.connections()).toBe(0);
    const again = await connect(s);
    again.ws.send(
      JSON.stringify({ method: 'subscribe', params: { channel: 'executions', token: held.token }, req_id: 3 }),
    );
    await waitFor('the stale token refused', () => answerTo(again.msgs, 3) !== undefined);
    expect(answerTo(again.msgs, 3)).toMatchObject({ error: 'ESession:Invalid session' });
    // An outage that lasts: upgrades fail with 503.
    s.faults.refuseWebSockets = true;
    const refused = new WebSocket(s.wsUrl);
    refused.on('error', () => undefined);
    const status = await new Promise<number>((resolve) => {
      refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      refused.once('open', () => resolve(101));
    });
    expect(status).toBe(503);
  });
});
