/**
 * Order -> fill latency through the ccxt venue against the exchange simulator (in its own process): market orders,
 * timed from the `placeOrder` call to the fill's arrival at a `watchFills` subscriber, once through the user-data
 * stream and once through REST polling (the fallback path, at the shipping poll period), on ccxt's binance (the
 * simulator's Binance mode, the WebSocket API) and ccxt's kraken (its Kraken mode, the private WebSocket v2). Also
 * counts the REST order and trade reads each path made per order, from the venue's side.
 */
import type { CcxtVenueOptions } from '../src/venues/ccxt/ccxt-venue.js';
import type { VenueFill } from '../src/core/index.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { krakenCcxtUrls } from '../src/venues/simulator/index.js';
import { type SimulatorProcess, simulatorProcess } from './simulator-child.js';

// LIVE_BENCH_FILL_ORDERS / LIVE_BENCH_POLL_ORDERS shorten a run while iterating.
const STREAM_ORDERS = Number(process.env.LIVE_BENCH_FILL_ORDERS ?? 200);
const POLL_ORDERS = Number(process.env.LIVE_BENCH_POLL_ORDERS ?? 30);
const POLL_INTERVAL_MS = 1_000;

const ms = (x: number) => `${x.toFixed(1)} ms`;
const q = (s: number[], p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];

/** How the bench reaches one simulator mode through ccxt. */
interface Target {
  exchange: 'binance' | 'kraken';
  symbol: string;
  /** Venue options for the simulator at `sim`. */
  venue: (sim: SimulatorProcess) => Partial<CcxtVenueOptions>;
}

const TARGETS: readonly Target[] = [
  {
    exchange: 'binance',
    symbol: 'BTC/USDT',
    venue: ({ url }) => {
      const host = new URL(url).host;
      return {
        urls: {
          public: `${url}/api/v3`,
          private: `${url}/api/v3`,
          v1: `${url}/api/v1`,
          sapi: `${url}/sapi/v1`,
          ws: { spot: `ws://${host}/stream/ws`, 'ws-api': { spot: `ws://${host}/ws-api/v3` } },
        },
      };
    },
  },
  // Market data polled (the Kraken mode serves none over WebSocket); `userStream: true` streams orders and fills.
  {
    exchange: 'kraken',
    symbol: 'BTC/USD',
    venue: ({ url }) => ({ urls: krakenCcxtUrls(url), disableStreaming: true }),
  },
];

/** p50/p90/max order -> fill over `orders` market orders; `userStream` picks the path. */
async function measure(
  t: Target,
  sim: SimulatorProcess,
  userStream: boolean,
  orders: number,
): Promise<{ lat: number[]; placed: number[]; restReads: number; mode: string }> {
  let restReads = 0;
  let mode = 'poll';
  const venue = new CcxtVenue({
    exchange: t.exchange,
    apiKey: sim.apiKey,
    secret: sim.secret,
    ...t.venue(sim),
    rateLimitMs: 1,
    pollIntervalMs: POLL_INTERVAL_MS,
    userStream,
    onUserStream: (feed, m) => {
      if (feed === 'fills') mode = m;
    },
  });
  await venue.connect();
  // Count the venue's REST reads of orders and trades (what polling costs) by wrapping ccxt's calls.
  const ex = venue.exchange as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
  for (const name of ['fetchMyTrades', 'fetchOpenOrders', 'fetchOrder']) {
    const orig = ex[name].bind(venue.exchange);
    ex[name] = (...a: unknown[]) => {
      restReads++;
      return orig(...a);
    };
  }
  // A fill is known by its client id or, when it arrives before the placement's answer taught the venue which
  // client id its order has (a poll that reads the trade while a Kraken placement still reads its order back), by
  // its venue order id: the runtime's bridge keeps such a fill until the answer comes; the bench does the same.
  const arrivedAt = new Map<string, number>();
  let wake: (() => void) | undefined;
  const sub = venue.watchFills((f: VenueFill) => {
    const now = performance.now();
    if (f.clientOrderId) arrivedAt.set(f.clientOrderId, now);
    arrivedAt.set(`#${f.venueOrderId}`, now);
    wake?.();
  });
  if (userStream) await until(() => mode === 'stream');
  const reads0 = restReads;
  const lat: number[] = [];
  const placed: number[] = [];
  try {
    for (let i = 0; i < orders; i++) {
      const cid = `bench${userStream ? 's' : 'p'}${i}${Date.now().toString(36)}`;
      // Orders come at random moments of the poll cycle (placing right after a delivered fill would always wait a
      // whole period); the stream has no cycle.
      if (!userStream) await new Promise((r) => setTimeout(r, Math.random() * POLL_INTERVAL_MS));
      const start = performance.now();
      const order = await venue.placeOrder({
        clientOrderId: cid,
        symbol: t.symbol,
        side: i % 2 === 0 ? 'buy' : 'sell',
        type: 'market',
        quantity: 0.001,
      });
      placed.push(performance.now() - start);
      const arrival = () => arrivedAt.get(cid) ?? arrivedAt.get(`#${order.venueOrderId}`);
      while (arrival() === undefined) await new Promise<void>((r) => (wake = r));
      wake = undefined;
      lat.push((arrival() as number) - start);
    }
  } finally {
    sub.close();
    await venue.close();
  }
  const sort = (x: number[]) => x.sort((a, b) => a - b);
  return { lat: sort(lat), placed: sort(placed), restReads: restReads - reads0, mode };
}

function until(cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = () => (cond() ? resolve() : setTimeout(poll, 5));
    poll();
  });
}

/** Prints order -> fill latency through the user-data stream beside the REST polling path. */
export async function fillLatency(out: (s: string) => void): Promise<void> {
  for (const t of TARGETS) {
    const sim =
      t.exchange === 'kraken'
        ? // Placements and the feed sign concurrently: a nonce window, as such a Kraken key needs.
          await simulatorProcess(
            { tickIntervalMs: 0, historyBars: 10, nonceWindow: 10_000, balances: { ZUSD: 1e7, XXBT: 100 } },
            'kraken',
          )
        : await simulatorProcess({ tickIntervalMs: 0, historyBars: 10, balances: { USDT: 1e7, BTC: 100 } });
    try {
      out(
        `order -> fill latency, ccxt ${t.exchange} against the simulator (own process), market orders, placeOrder -> watchFills${t.exchange === 'kraken' ? ' (a Kraken placement reads its order once: QueryOrders, counted below)' : ''}`,
      );
      for (const [label, stream, n] of [
        ['user-data stream', true, STREAM_ORDERS],
        [`REST polling (${POLL_INTERVAL_MS} ms)`, false, POLL_ORDERS],
      ] as const) {
        const r = await measure(t, sim, stream, n);
        out(
          `  ${label.padEnd(24)} p50 ${ms(q(r.lat, 0.5))}, p90 ${ms(q(r.lat, 0.9))}, max ${ms(r.lat[r.lat.length - 1])} over ${n} orders (placeOrder answered: p50 ${ms(q(r.placed, 0.5))}); REST order/trade reads ${(r.restReads / n).toFixed(1)} per order`,
        );
      }
    } finally {
      sim.close();
    }
  }
}
