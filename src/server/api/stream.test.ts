import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { StreamHub } from './stream.js';

interface Msg {
  type: string;
  key?: string;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** A hub behind a real WebSocket server on loopback, and one connected client recording what it receives. */
async function connected(hub: StreamHub) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (socket) => hub.attach(socket));
  closers.push(() => new Promise<void>((r) => wss.close(() => r())));
  closers.push(async () => hub.close());
  const ws = new WebSocket(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`);
  const messages: Msg[] = [];
  const waiters: { pred: (m: Msg) => boolean; resolve: () => void }[] = [];
  ws.on('message', (raw) => {
    const m = JSON.parse(raw.toString()) as Msg;
    messages.push(m);
    for (const w of waiters.splice(0)) {
      if (w.pred(m)) w.resolve();
      else waiters.push(w);
    }
  });
  const next = (pred: (m: Msg) => boolean) =>
    messages.some(pred) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ pred, resolve }));
  await new Promise<void>((r) => ws.once('open', () => r()));
  closers.push(async () => ws.close());
  return { ws, messages, next };
}

describe('StreamHub bounded fan-out', () => {
  it("drops a client's oldest waiting throttled events past its bound, counts them, and delivers the rest", async () => {
    const hub = new StreamHub({ throttleMs: 100, maxPendingPerClient: 3 });
    expect(hub).toMatchObject({ queue: 'ws', capacity: 3, policy: 'drop_oldest', depth: 0, dropped: 0 });
    const c = await connected(hub);
    c.ws.send(JSON.stringify({ op: 'subscribe', topics: ['tickers'] }));
    await c.next((m) => m.type === 'subscribed');
    // The first event of a throttled topic goes out at once; the next ones wait for the throttle interval.
    for (let k = 0; k <= 5; k++) hub.publish({ topic: 'tickers', key: `K${k}`, time: k, data: { k } });
    expect(hub.depth).toBe(3);
    expect(hub.dropped).toBe(2);
    await c.next((m) => m.key === 'K5');
    expect(c.messages.filter((m) => m.type === 'event').map((m) => m.key)).toEqual(['K0', 'K3', 'K4', 'K5']);
    expect(hub.depth).toBe(0);
    // An update of a key already waiting replaces it: nothing is dropped for conflation.
    hub.publish({ topic: 'tickers', key: 'K6', time: 6, data: {} });
    for (let i = 0; i < 10; i++) hub.publish({ topic: 'tickers', key: 'K7', time: 7 + i, data: { i } });
    expect(hub.dropped).toBe(2);
  });
});
