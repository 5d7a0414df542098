/**
 * Several subscribers of one stream on one CcxtVenue share ccxt's channel: closing one must not disturb the others,
 * a new subscriber after a close gets a clean feed, and closing the venue right after an unsubscribe leaves no
 * unhandled rejection behind (ccxt sends unsubscribes behind its throttle).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Subscription } from '../src/core/index.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

const SYMBOL = 'BTC/USDT';
const TICK_MS = 50;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let sim: SimulatorHandle;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  sim = await startSimulator({ seed: 5, tickIntervalMs: TICK_MS });
  process.on('unhandledRejection', onUnhandled);
});
afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await sim.close();
});

function newVenue(): CcxtVenue {
  return new CcxtVenue({ exchange: 'binance', urls: sim.ccxtUrls(), rateLimitMs: 1, timeoutMs: 3_000 });
}

/** A subscriber that counts updates and keeps errors. */
class Probe {
  count = 0;
  errors: Error[] = [];
  sub: Subscription | undefined;
  readonly on = () => {
    this.count++;
  };
  readonly err = (e: Error) => {
    this.errors.push(e);
  };
  async waitFor(n: number, ms = 5_000): Promise<void> {
    const until = Date.now() + ms;
    while (this.count < n && Date.now() < until) await sleep(20);
    expect(this.count, 'updates before the deadline').toBeGreaterThanOrEqual(n);
  }
  async countOver(ms: number): Promise<number> {
    const start = this.count;
    await sleep(ms);
    return this.count - start;
  }
}

type Open = (v: CcxtVenue, p: Probe) => Subscription;
const kinds: [string, Open][] = [
  ['watchTicker', (v, p) => v.watchTicker(SYMBOL, p.on, p.err)],
  ['watchCandles', (v, p) => v.watchCandles(SYMBOL, '1m', p.on, p.err)],
  ['watchOrderBook', (v, p) => v.watchOrderBook(SYMBOL, p.on, p.err)],
];

describe('ccxt shared streams', () => {
  let venue: CcxtVenue;
  beforeEach(async () => {
    unhandled.length = 0;
    venue = newVenue();
    await venue.connect();
  });
  afterEach(async () => {
    await venue.close();
  });

  for (const [name, open] of kinds) {
    it(`${name}: closing one of two subscribers leaves the other at the normal rate, and a re-watch is clean`, async () => {
      const a = new Probe();
      const b = new Probe();
      a.sub = open(venue, a);
      b.sub = open(venue, b);
      await a.waitFor(3);
      await b.waitFor(3);
      const before = await b.countOver(1_000);
      expect(before).toBeGreaterThanOrEqual(5);

      a.sub.close();
      const aAtClose = a.count;
      const after = await b.countOver(1_000);
      expect(b.errors).toEqual([]);
      // The survivor's feed is unchanged (timer jitter aside), not cut down or errored.
      expect(after).toBeGreaterThanOrEqual(Math.floor(before * 0.6));
      expect(a.count).toBe(aAtClose);

      const c = new Probe();
      c.sub = open(venue, c);
      const cRate = await c.countOver(1_000);
      expect(c.errors).toEqual([]);
      expect(b.errors).toEqual([]);
      expect(cRate).toBeGreaterThanOrEqual(Math.floor(before * 0.5));

      b.sub.close();
      c.sub.close();
      await sleep(200);
      const bStop = b.count;
      const cStop = c.count;
      await sleep(300);
      expect(b.count).toBe(bStop);
      expect(c.count).toBe(cStop);
      expect(unhandled).toEqual([]);
    });

    it(`${name}: a new subscriber right after the last one closed gets a clean feed`, async () => {
      const a = new Probe();
      a.sub = open(venue, a);
      await a.waitFor(3);
      a.sub.close();
      const b = new Probe();
      b.sub = open(venue, b);
      await b.waitFor(5);
      expect(b.errors).toEqual([]);
      b.sub.close();
      expect(unhandled).toEqual([]);
    });

    it(`${name}: closing the venue right after an unsubscribe leaves no unhandled rejection`, async () => {
      const a = new Probe();
      a.sub = open(venue, a);
      await a.waitFor(3);
      a.sub.close();
      await venue.close();
      await sleep(500);
      expect(unhandled.map((e) => String(e))).toEqual([]);
      expect(a.errors).toEqual([]);
    });
  }

  it('an error of one stream reaches every subscriber of it, and a later subscriber starts a fresh feed', async () => {
    const a = new Probe();
    const b = new Probe();
    a.sub = venue.watchTicker(SYMBOL, a.on, a.err);
    b.sub = venue.watchTicker(SYMBOL, b.on, b.err);
    await a.waitFor(2);
    await b.waitFor(2);
    sim.faults.dropWebSockets();
    const until = Date.now() + 5_000;
    while ((a.errors.length === 0 || b.errors.length === 0) && Date.now() < until) await sleep(20);
    expect(a.errors.length).toBe(1);
    expect(b.errors.length).toBe(1);
    const c = new Probe();
    c.sub = venue.watchTicker(SYMBOL, c.on, c.err);
    await c.waitFor(3);
    expect(c.errors).toEqual([]);
    c.sub.close();
  });
});

describe('watchTicker on a quiet market', () => {
  // ccxt resolves only the watch call waiting when a message arrives; a second ticker in the same socket read only
  // replaced its cache, and with no further print the subscriber kept the older price (test/runtime-parity.test.ts
  // waited a minute per bar for it once the runtime stopped polling).
  it('delivers the newest price when several tickers arrive at once and nothing follows', async () => {
    const quiet = await startSimulator({ seed: 5, tickIntervalMs: 0 });
    const venue = new CcxtVenue({ exchange: 'binance', urls: quiet.ccxtUrls(), rateLimitMs: 1, timeoutMs: 3_000 });
    const seen: number[] = [];
    const sub = venue.watchTicker(SYMBOL, (t) => seen.push(t.last));
    try {
      // Subscribed once a print arrives: print until one does.
      await until('the first ticker', () => {
        quiet.setPrice('BTCUSDT', 30_000);
        return seen.length > 0;
      });
      const before = seen.length;
      for (const p of [30_100, 30_200, 30_300, 30_400, 30_500]) quiet.setPrice('BTCUSDT', p);
      await until('the last price', () => seen.at(-1) === 30_500);
      // Newest first: nothing older is delivered after it.
      expect(seen.slice(before).every((p, i, a) => i === 0 || p >= a[i - 1])).toBe(true);
    } finally {
      sub.close();
      await venue.close();
      await quiet.close();
    }
  });
});

// A failure detector, not a time budget: generous because the box may be loaded.
async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
