/**
 * Paper venue benchmark: cost of one live ticker update (matching 1,000 resting orders that do not fill, the common
 * case), and placement latency of a market order that fills at once. The market source is an in-process stand-in
 * that hands tickers straight to the venue, so the figures are the paper venue's own work, not the network's. Last,
 * the runtime's durable configuration: each change saved to the store's SQLite kv before the order is answered.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Instrument, Subscription, Ticker } from '../src/core/index.js';
import { openStore } from '../src/store/index.js';
import { paperAccountsIn } from '../src/app/paper-accounts.js';
import { type MarketDataSource, PaperVenue } from '../src/venues/paper/index.js';

const SYMBOL = 'BTC/USDT';
const INSTRUMENT: Instrument = {
  symbol: SYMBOL,
  base: 'BTC',
  quote: 'USDT',
  kind: 'spot',
  tickSize: 0.01,
  lotSize: 0.00001,
  minQty: 0.00001,
  minNotional: 5,
  multiplier: 1,
};

function source(): { market: MarketDataSource; push: (t: Ticker) => void } {
  let listener: ((t: Ticker) => void) | undefined;
  let last: Ticker = { symbol: SYMBOL, time: Date.now(), bid: 29_999, ask: 30_001, last: 30_000, volume: 1_000 };
  const none: Subscription = { close: () => undefined };
  const unsupported = () => Promise.reject(new Error('not in this benchmark'));
  const market: MarketDataSource = {
    fetchInstruments: async () => [INSTRUMENT],
    fetchTicker: async () => last,
    fetchCandles: unsupported,
    fetchOrderBook: unsupported,
    fetchServerTime: async () => Date.now(),
    watchTicker: (_s, on) => {
      listener = on;
      return { close: () => (listener = undefined) };
    },
    watchCandles: () => none,
    watchOrderBook: () => none,
  };
  return {
    market,
    push: (t) => {
      last = t;
      listener?.(t);
    },
  };
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

export default async function (): Promise<void> {
  const { market, push } = source();
  const venue = new PaperVenue({ market, balances: { USDT: 1e9, BTC: 1e6 } });
  await venue.track(SYMBOL);
  for (let i = 0; i < 1_000; i++) {
    const buy = i % 2 === 0;
    await venue.placeOrder({
      clientOrderId: `rest${i}`,
      symbol: SYMBOL,
      side: buy ? 'buy' : 'sell',
      type: i % 4 < 2 ? 'limit' : 'stop',
      quantity: 0.01,
      ...(i % 4 < 2 ? { price: buy ? 20_000 : 40_000 } : { stopPrice: buy ? 40_000 : 20_000 }),
    });
  }
  const updates = 100_000;
  const t: Ticker = { symbol: SYMBOL, time: Date.now(), bid: 29_999, ask: 30_001, last: 30_000, volume: 1_000 };
  const start = performance.now();
  for (let i = 0; i < updates; i++) {
    t.time++;
    t.last = 30_000 + (i % 100);
    push(t);
  }
  const perUpdate = ((performance.now() - start) * 1e3) / updates;
  process.stdout.write(`ticker update, 1,000 resting orders: ${perUpdate.toFixed(2)} µs/update\n`);

  const lat: number[] = [];
  for (let i = 0; i < 5_000; i++) {
    const s = performance.now();
    await venue.placeOrder({
      clientOrderId: `mkt${i}`,
      symbol: SYMBOL,
      side: i % 2 ? 'sell' : 'buy',
      type: 'market',
      quantity: 0.001,
    });
    lat.push((performance.now() - s) * 1e3);
  }
  lat.sort((a, b) => a - b);
  process.stdout.write(
    `market order placed and filled: p50 ${pct(lat, 0.5).toFixed(1)} µs, p99 ${pct(lat, 0.99).toFixed(1)} µs\n`,
  );
  await venue.close();
  await durable();
}

// The runtime's configuration: every change saved to the store (SQLite kv) before the order's answer. The snapshot
// holds the last `history` (default 200) fills and finished orders, so the cost grows up to that and then stays.
async function durable(): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'tf-paper-bench-'));
  const store = await openStore({ home });
  try {
    const { market } = source();
    const accounts = paperAccountsIn(store, (err) => process.stderr.write(`${err.message}\n`));
    const venue = new PaperVenue({
      market,
      balances: { USDT: 1e9, BTC: 1e6 },
      save: (state) => accounts.save('bench', state),
    });
    await venue.track(SYMBOL);
    for (let block = 0; block < 2; block++) {
      const lat: number[] = [];
      for (let i = 0; i < 300; i++) {
        const s = performance.now();
        await venue.placeOrder({
          clientOrderId: `d${block}-${i}`,
          symbol: SYMBOL,
          side: i % 2 ? 'sell' : 'buy',
          type: 'market',
          quantity: 0.001,
        });
        lat.push((performance.now() - s) * 1e3);
      }
      lat.sort((a, b) => a - b);
      process.stdout.write(
        `durable (SQLite kv) market order placed, filled and saved, ${block * 300}-${(block + 1) * 300} fills placed before: p50 ${pct(lat, 0.5).toFixed(0)} µs, p99 ${pct(lat, 0.99).toFixed(0)} µs\n`,
      );
    }
    await venue.close();
  } finally {
    await store.close();
    rmSync(home, { recursive: true, force: true });
  }
}
