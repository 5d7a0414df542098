import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildVenues } from '../src/app/venues.js';
import { resolveConfig } from '../src/core/config.js';
import { type Order, VenueError } from '../src/core/index.js';
import type { VenueListener } from '../src/engine/execution-venue.js';
import { withVenueCallContext } from '../src/venues/call-context.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { LiveVenueBridge, PROTECTIVE_STOP_TAG } from '../src/venues/live/bridge.js';
import { RESILIENCE_CODES, ResilientVenue } from '../src/venues/resilience.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { RequestBudget } from '../src/risk/request-budget.js';
import { MemoryJournal } from './fixtures/runtime/kit.js';

// RISK-5 and the kill switch (issue 9): the runtime's venues draw every REST call on one budget per venue built from
// `risk.venueRequestsPerMinute`; the kill switch uses the budget's reserve, jumps the bridge's queue and stops an
// entry whose placement is being retried. Real ccxt over HTTP to the simulator.
let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await startSimulator({ seed: 31, tickIntervalMs: 50 });
});
afterAll(async () => {
  await sim?.close();
});

describe('request budget of the runtime venues', () => {
  it('every REST call draws on the venue budget; ordinary calls stop at the reserve, urgent ones get through', async () => {
    const config = resolveConfig({
      venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
      deployments: [{ id: 'b', strategy: 'sma-cross', venue: 'sim', symbols: ['BTC/USDT'] }],
      risk: { venueRequestsPerMinute: 20 },
    });
    const venues = await buildVenues(config, 'dev', async () => undefined);
    const built = venues.get('sim')!;
    try {
      const budget = built.budget!;
      expect(budget.limit).toBe(20);
      expect(budget.ordinaryLimit).toBe(18);
      // connect() loaded the markets through the budget too.
      const before = sim.requests.length;
      const usedBefore = budget.used(Date.now());
      expect(usedBefore).toBeGreaterThan(0);
      await built.resilient.fetchTicker('BTC/USDT');
      await built.resilient.fetchOpenOrders('BTC/USDT');
      await built.resilient.fetchFills('BTC/USDT');
      expect(budget.used(Date.now()) - usedBefore).toBe(sim.requests.length - before);
      while (budget.used(Date.now()) < budget.ordinaryLimit) await built.venue.fetchTicker('BTC/USDT');
      const sent = sim.requests.length;
      // The next ordinary call would wait most of a minute: refused at once, retryable, and never sent.
      const err = await built.venue.fetchTicker('BTC/USDT').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VenueError);
      expect((err as VenueError).code).toBe('VENUE_BUDGET');
      expect(sim.requests.length).toBe(sent);
      // The kill switch's calls use the reserve.
      const t = await withVenueCallContext({ urgent: true }, () => built.venue.fetchTicker('BTC/USDT'));
      expect(t.last).toBeGreaterThan(0);
      expect(sim.requests.length).toBe(sent + 1);
    } finally {
      await built.close();
    }
  }, 300_000);
});

/** Moves orders through their states the way the execution engine does, and records what it was told. */
class Listener implements VenueListener {
  readonly rejected = new Map<Order, string>();
  onAccepted(o: Order): void {
    o.status = 'accepted';
  }
  onFill(o: Order, _price: number, quantity: number): void {
    o.filledQuantity += quantity;
    o.status = o.filledQuantity >= o.quantity - 1e-12 ? 'filled' : 'partially_filled';
  }
  onCancelled(o: Order): void {
    o.status = 'cancelled';
  }
  onRejected(o: Order, reason: string): void {
    o.status = 'rejected';
    this.rejected.set(o, reason);
  }
  checkFill(): string | null {
    return null;
  }
}

function order(id: string, side: 'buy' | 'sell', type: 'market' | 'stop', quantity: number, tag?: string): Order {
  return {
    id,
    clientOrderId: id,
    strategyId: 's',
    symbol: 'BTC/USDT',
    side,
    type,
    quantity,
    ...(type === 'stop' ? { stopPrice: 20_000 } : {}),
    timeInForce: 'GTC',
    reduceOnly: false,
    status: 'submitted',
    filledQuantity: 0,
    averageFillPrice: 0,
    fees: 0,
    createdAt: Date.now(),
    updatedAt: Date.now(),
    source: 'strategy',
    correlationId: id,
    ...(tag ? { tag } : {}),
  };
}

describe('kill switch on the live bridge', () => {
  it('jumps the queue behind an entry being retried, and stops that entry before it is ever placed', async () => {
    const inner = new CcxtVenue({
      exchange: 'binance',
      apiKey: sim.apiKey,
      secret: sim.secret,
      urls: sim.ccxtUrls(),
      rateLimitMs: 1,
      timeoutMs: 2_000,
    });
    // Retries for up to a minute, like a venue outage would make them.
    const venue = new ResilientVenue(inner, {
      retry: { baseMs: 100, maxDelayMs: 400, maxAttempts: 1_000, maxElapsedMs: 60_000 },
      place: { settleMs: 20 },
    });
    const bridge = new LiveVenueBridge({
      venue,
      journal: new MemoryJournal(),
      clientIdPrefix: `ks${Date.now().toString(36)}-`,
      strategyId: 's',
    });
    const listener = new Listener();
    bridge.attach(listener);
    try {
      const stop = order('o1', 'sell', 'stop', 0.01, PROTECTIVE_STOP_TAG);
      bridge.submit(stop);
      await bridge.drain();
      expect(stop.status).toBe('accepted');

      // The venue fails every new order: the entry retries, and a plain cancel would wait behind it.
      const posts = () => sim.requests.filter((r) => r.method === 'POST' && r.path === '/api/v3/order').length;
      const before = posts();
      sim.faults.failNext(10_000, 503, { method: 'POST', path: '/api/v3/order' });
      const entry = order('o2', 'buy', 'market', 0.01);
      bridge.submit(entry);
      await until('the entry to be retrying', () => posts() >= before + 2);

      bridge.engageKillSwitch();
      bridge.cancel(stop, 'KILL_SWITCH');
      await until('the stop cancelled', () => stop.status === 'cancelled');
      expect(sim.state.orders.find((o) => o.clientOrderId === bridge.clientOrderIdOf(stop))?.status).toBe('CANCELED');
      await until('the entry stopped', () => entry.status === 'rejected');
      expect(listener.rejected.get(entry)).toBe(RESILIENCE_CODES.aborted);
      // It never reached the venue.
      expect(sim.state.orders.some((o) => o.clientOrderId === bridge.clientOrderIdOf(entry))).toBe(false);
    } finally {
      sim.faults.reset();
      bridge.close();
      await inner.close();
    }
  }, 300_000);
});

describe('kill switch lanes', () => {
  it("sends the symbols side by side, and a symbol's cancels before its close", async () => {
    const inner = new CcxtVenue({
      exchange: 'binance',
      apiKey: sim.apiKey,
      secret: sim.secret,
      urls: sim.ccxtUrls(),
      rateLimitMs: 1,
      timeoutMs: 3_000,
    });
    const venue = new ResilientVenue(inner, { retry: { baseMs: 20, maxDelayMs: 100 }, place: { settleMs: 20 } });
    // What the resting BTC order's state was when the BTC close was made durable (just before it was sent).
    const restAtClose: string[] = [];
    let btcRest: Order | undefined;
    let btcClose: Order | undefined;
    const journal = new MemoryJournal();
    const persist = journal.persistOrder.bind(journal);
    journal.persistOrder = (o: Readonly<Order>) => {
      if (o === btcClose && btcRest !== undefined) restAtClose.push(btcRest.status);
      return persist(o);
    };
    const bridge = new LiveVenueBridge({
      venue,
      journal,
      clientIdPrefix: `kl${Date.now().toString(36)}-`,
      strategyId: 's',
    });
    bridge.attach(new Listener());
    bridge.start();
    try {
      btcRest = { ...order('r1', 'buy', 'market', 0.01), type: 'limit', price: 1_000 };
      const ethRest: Order = { ...order('r2', 'buy', 'market', 0.1), symbol: 'ETH/USDT', type: 'limit', price: 100 };
      bridge.submit(btcRest);
      bridge.submit(ethRest);
      await bridge.drain();
      expect([btcRest.status, ethRest.status]).toEqual(['accepted', 'accepted']);

      // BTC's cancel gets no answer (the client times out and retries); ETH must not wait for it.
      const deletes = () => sim.requests.filter((r) => r.method === 'DELETE' && r.path === '/api/v3/order').length;
      const before = deletes();
      sim.faults.hangNext(1, false, { method: 'DELETE', path: '/api/v3/order' });
      bridge.engageKillSwitch();
      bridge.cancel(btcRest, 'KILL_SWITCH');
      await until('the BTC cancel to hang at the venue', () => deletes() > before);
      bridge.cancel(ethRest, 'KILL_SWITCH');
      btcClose = { ...order('c1', 'sell', 'market', 0.001), reduceOnly: true };
      bridge.submit(btcClose);
      await until('the ETH cancel', () => ethRest.status === 'cancelled');
      // ETH's cancel went out and came back while BTC's was still waiting for its answer.
      expect(btcRest.status).toBe('accepted');
      await until('the BTC close filled', () => btcClose?.status === 'filled');
      expect(btcRest.status).toBe('cancelled');
      // The BTC close's write-ahead (just before its send) came only after BTC's cancel was answered.
      expect(restAtClose[0]).toBe('cancelled');
    } finally {
      sim.faults.reset();
      bridge.close();
      await inner.close();
    }
  }, 300_000);

  it("kill switch calls skip ccxt's spacing queue; the request budget paces them", async () => {
    // A second between ordinary calls: the second ordinary call waits for the first one's spacing.
    const venue = new CcxtVenue({
      exchange: 'binance',
      apiKey: sim.apiKey,
      secret: sim.secret,
      urls: sim.ccxtUrls(),
      rateLimitMs: 1_000,
      timeoutMs: 10_000,
      budget: new RequestBudget(1_000, 60_000),
    });
    try {
      await venue.connect();
      const done: string[] = [];
      const first = venue.fetchTicker('BTC/USDT').then(() => done.push('ordinary 1'));
      const second = venue.fetchTicker('BTC/USDT').then(() => done.push('ordinary 2'));
      const urgent = withVenueCallContext({ urgent: true }, () => venue.fetchTicker('BTC/USDT')).then(() =>
        done.push('urgent'),
      );
      await Promise.all([first, second, urgent]);
      // Queued behind the ordinary calls it would finish last; it finishes before the second one.
      expect(done.indexOf('urgent')).toBeLessThan(done.indexOf('ordinary 2'));
    } finally {
      await venue.close();
    }
  }, 300_000);
});

// A failure detector, not a time budget: generous because the box may be loaded.
async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
