import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type ApiFixture, login, type Session, startApiFixture } from './server-api-fixture.js';

let fx: ApiFixture;
let viewer: Session;

beforeAll(async () => {
  fx = await startApiFixture({ loginsPerMinute: 1000 });
  viewer = await login(fx, 'viewer');
});
afterAll(async () => {
  await fx?.close();
});

interface Msg {
  type: string;
  topic?: string;
  key?: string;
  token?: string;
  data?: unknown;
  resumed?: number;
  resync?: boolean;
  fields?: { field: string }[];
}

/** A WebSocket client that records every message and waits for one matching a predicate. */
class Client {
  readonly messages: Msg[] = [];
  private waiters: { pred: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const m = JSON.parse(raw.toString()) as Msg;
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => {
        if (!w.pred(m)) return true;
        w.resolve(m);
        return false;
      });
    });
  }
  next(pred: (m: Msg) => boolean): Promise<Msg> {
    const seen = this.messages.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }
  send(msg: unknown): void {
    this.ws.send(JSON.stringify(msg));
  }
  close(): Promise<void> {
    return new Promise((r) => {
      this.ws.once('close', () => r());
      this.ws.close();
    });
  }
}

function connect(headers: Record<string, string>): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${fx.port}/api/ws`, { headers });
    const client = new Client(ws);
    ws.once('open', () => resolve(client));
    // No client-side cleanup on purpose: the server must end a refused upgrade itself, or closing it hangs.
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

const order = (n: number) => ({ topic: 'orders' as const, time: n, data: { id: `o-${n}` } });

describe('WebSocket stream', () => {
  it('refuses a connection without a session, and one from a foreign origin', async () => {
    await expect(connect({})).rejects.toThrow('HTTP 401');
    await expect(connect({ cookie: viewer.cookie, origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
    await expect(connect({ cookie: viewer.cookie, host: 'rebind.example' })).rejects.toThrow('HTTP 403');
  });

  it('delivers subscribed topics only, and stops after unsubscribe', async () => {
    const c = await connect({ cookie: viewer.cookie });
    await c.next((m) => m.type === 'hello');
    c.send({ op: 'subscribe', topics: ['orders', 'fills'] });
    await c.next((m) => m.type === 'subscribed');
    fx.runtime.emit({ topic: 'positions', time: 1, data: { x: 1 } });
    fx.runtime.emit(order(1));
    const got = await c.next((m) => m.topic === 'orders');
    expect(got.data).toEqual({ id: 'o-1' });
    expect(got.token).toMatch(/^[0-9a-f]{8}\.\d+$/);
    c.send({ op: 'unsubscribe', topics: ['orders'] });
    await c.next((m) => m.type === 'unsubscribed');
    fx.runtime.emit(order(2));
    fx.runtime.emit({ topic: 'fills', time: 3, data: { id: 'f-1' } });
    await c.next((m) => m.topic === 'fills');
    expect(c.messages.filter((m) => m.topic === 'orders')).toHaveLength(1);
    expect(c.messages.some((m) => m.topic === 'positions')).toBe(false);
    await c.close();
  });

  it('conflates a throttled topic per key: the latest price always arrives, not every tick', async () => {
    const c = await connect({ cookie: viewer.cookie });
    c.send({ op: 'subscribe', topics: ['tickers'] });
    await c.next((m) => m.type === 'subscribed');
    for (let i = 1; i <= 50; i++) fx.runtime.emit({ topic: 'tickers', key: 'BTC/USDT', time: i, data: { last: i } });
    fx.runtime.emit({ topic: 'tickers', key: 'ETH/USDT', time: 51, data: { last: 7 } });
    await c.next((m) => m.key === 'BTC/USDT' && (m.data as { last: number }).last === 50);
    await c.next((m) => m.key === 'ETH/USDT');
    const btc = c.messages.filter((m) => m.key === 'BTC/USDT');
    expect(btc.length).toBeLessThan(50);
    await c.close();
  });

  it('a reconnecting client resumes from its last token and misses nothing', async () => {
    const a = await connect({ cookie: viewer.cookie });
    a.send({ op: 'subscribe', topics: ['orders'] });
    await a.next((m) => m.type === 'subscribed');
    fx.runtime.emit(order(10));
    const last = await a.next((m) => m.topic === 'orders' && (m.data as { id: string }).id === 'o-10');
    await a.close();
    fx.runtime.emit(order(11));
    fx.runtime.emit({ topic: 'fills', time: 1, data: { id: 'f-x' } });
    fx.runtime.emit(order(12));
    const b = await connect({ cookie: viewer.cookie });
    b.send({ op: 'subscribe', topics: ['orders'], resume: last.token });
    const sub = await b.next((m) => m.type === 'subscribed');
    expect(sub.resumed).toBe(2);
    await b.next((m) => (m.data as { id?: string } | undefined)?.id === 'o-12');
    expect(b.messages.filter((m) => m.topic === 'orders').map((m) => (m.data as { id: string }).id)).toEqual([
      'o-11',
      'o-12',
    ]);
    await b.close();
  });

  it('asks for a resync when the token is from another run, and names bad fields', async () => {
    const c = await connect({ cookie: viewer.cookie });
    c.send({ op: 'subscribe', topics: ['orders'], resume: 'deadbeef.5' });
    const sub = await c.next((m) => m.type === 'subscribed');
    expect(sub.resync).toBe(true);
    c.send({ op: 'subscribe', topics: ['gossip'] });
    const err = await c.next((m) => m.type === 'error');
    expect(err.fields?.map((f) => f.field)).toEqual(['topics.0']);
    c.ws.send('not json');
    await c.next((m) => m.type === 'error' && (m as { error?: string }).error === 'bad_json');
    await c.close();
  });
});
