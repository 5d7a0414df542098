/**
 * A deployment on an IG venue, end to end in this process (VENUE-2): the runtime builds the IG adapter from config
 * with credentials from the vault, its clock-drift guard accepts IG's whole-second clock, an entry through the
 * engine's order path becomes an IG position with a broker-side stop under a client id that fits IG's deal
 * reference, and an IG allowance refusal reaches the alert bus; on a 1m deployment the bars close from IG's CHART
 * item and the balance comes from its ACCOUNT item, with no price-history or account read over REST.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { type HomePaths, resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import type { DomainEvent } from '../src/core/events.js';
import { Redactor } from '../src/security/redact.js';
import { Vault } from '../src/security/vault.js';
import { openStore } from '../src/store/index.js';
import type { IgVenue } from '../src/venues/ig/ig-venue.js';
import { IgSimulator } from '../src/venues/ig/simulator.js';
import { waitFor } from './fixtures/wait.js';

const MASTER_KEY = randomBytes(32).toString('hex');
// Allowances above what 100 ms polling spends (the test's venue budget is 6 000 a minute): the only 403 is injected.
// The simulator's clock runs `shift` ms ahead of ours: a test ends IG's candle by moving it past the candle's end.
let shift = 0;
const sim = new IgSimulator({
  accounts: [{ accountId: 'ABC123', balance: 100_000 }],
  allowances: { accountTrading: 10_000, accountOverall: 100_000 },
  now: () => Date.now() + shift,
});
let url = '';
let dir = '';
let runtime: Runtime | undefined;
beforeAll(async () => {
  url = await sim.start();
  dir = mkdtempSync(join(tmpdir(), 'tf-runtime-ig-'));
});
afterAll(async () => {
  await runtime?.stop('test end');
  await sim.stop();
  rmSync(dir, { recursive: true, force: true });
});

const until = async (what: string, cond: () => boolean, ms = 20_000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

async function storeSecrets(home: HomePaths, secrets: Record<string, string>): Promise<void> {
  const store = await openStore({ home });
  try {
    const vault = await Vault.create(store, { masterKey: MASTER_KEY }, { redactor: new Redactor() });
    for (const [name, value] of Object.entries(secrets)) await vault.set(name, value, 'test');
  } finally {
    await store.close();
  }
}

describe('runtime with an IG venue', () => {
  it('trades EUR/USD on the IG simulator with a broker-side stop and raises IG allowance alerts', async () => {
    const home = resolveHome({}, join(dir, 'home'));
    await storeSecrets(home, { 'ig.key': sim.apiKey, 'ig.user': sim.identifier, 'ig.pass': sim.password });
    const config = resolveConfig({
      server: { port: 0 },
      venues: [
        {
          id: 'ig',
          type: 'ig',
          secrets: { apiKey: 'ig.key', identifier: 'ig.user', password: 'ig.pass' },
          options: {
            url,
            markets: { 'EUR/USD': 'CS.D.EURUSD.CFD.IP' },
            stop: { kind: 'normal', distance: 30 },
          },
        },
      ],
      // Periods so long that the strategy never signals: the test places the order itself.
      deployments: [
        {
          id: 'fx',
          strategy: 'sma-cross',
          params: { fast: 100, slow: 200 },
          venue: 'ig',
          symbols: ['EUR/USD'],
          capitalCap: 100_000,
        },
      ],
      risk: { venueRequestsPerMinute: 6_000 },
      runtime: { barSeconds: 1, warmupBars: 5, pollMs: 100, staleAfterSeconds: 30, heartbeatSeconds: 5 },
    });
    // The market prints its quote every 200 ms, as a real one ticks: with the stream live, polling is only a 30 s
    // safety net, so the runtime's one-second bars close on streamed prints.
    const quote = { bid: 11_000.2, offer: 11_000.8 };
    const printer = setInterval(() => sim.setPrice('CS.D.EURUSD.CFD.IP', quote.bid, quote.offer), 200);
    onTestFinished(() => clearInterval(printer));
    runtime = await startRuntime({ config, profile: 'dev', home, env: { TRADEFORGE_MASTER_KEY: MASTER_KEY } });
    const alerts: DomainEvent<'alert.raised.v1'>[] = [];
    runtime.bus.subscribe('alert.raised.v1', (e: DomainEvent<'alert.raised.v1'>) => void alerts.push(e));
    const dep = runtime.deployments[0];
    const engine = dep.engine;
    await until('a live price', () => engine.portfolio.last[0] > 0 && dep.feed.liveBars > 0);
    const buy = engine.submitIntent({
      strategyId: 'fx',
      symbol: 'EUR/USD',
      side: 'buy',
      type: 'market',
      quantity: 0.5,
    });
    expect(buy, JSON.stringify(engine.riskEvents.at(-1))).not.toBeNull();
    await until('the buy fill', () => engine.portfolio.qty[0] > 0);
    const cid = dep.bridge.clientOrderIdOf(buy!) as string;
    expect(cid.length).toBeLessThanOrEqual(30);
    const position = sim.positions.find((p) => p.dealReference === cid);
    expect(position).toMatchObject({ direction: 'BUY', size: 0.5, stopLevel: 11_000.8 - 30 });
    // IG refuses one request for the allowance: the venue's alert reaches the bus.
    sim.failNext(403, 'error.public-api.exceeded-account-allowance');
    // With prices and account figures streamed, REST calls are rare: read the positions, the next request, which
    // IG refuses.
    await dep.venue.venue.fetchPositions().catch(() => undefined);
    await until('the allowance alert', () =>
      alerts.some((a) => a.payload.message.includes('exceeded-account-allowance')),
    );
    expect(alerts.find((a) => a.payload.message.includes('exceeded-account-allowance'))?.source).toBe('venue:ig');
    expect(sim.allowanceRefusals).toBe(0);
    // Prices stream from IG's Lightstreamer server (polling has slowed to its 30 s safety net): a quote the market
    // moves to reaches the book through the MARKET item.
    await until('the MARKET item streamed', () =>
      sim.streaming.controls.some((c) => c.LS_op === 'add' && c.LS_group === 'MARKET:CS.D.EURUSD.CFD.IP'),
    );
    Object.assign(quote, { bid: 11_020.2, offer: 11_020.8 });
    await until('the streamed quote in the book', () => engine.portfolio.last[0] === 11_020.5);

    // A restart after IG stopped the position out while we were down: reconciliation compares the booked position
    // with IG's and says so; the order is found at IG by its client order id (its deal reference).
    await runtime.stop('test');
    runtime = undefined;
    expect(sim.hitStop(position!.dealId)).toBe(true);
    runtime = await startRuntime({ config, profile: 'dev', home, env: { TRADEFORGE_MASTER_KEY: MASTER_KEY } });
    const report = runtime.deployments[0].reconcile;
    expect(report.mismatches.some((m) => m.startsWith('Venue position below booked position'))).toBe(true);
    expect(report.notPlaced).toBe(0);
  });

  it('closes 1m bars from the CHART item and reads the balance from the ACCOUNT item, with no REST read', async () => {
    await runtime?.stop('next test');
    runtime = undefined;
    const home = resolveHome({}, join(dir, 'home-chart'));
    await storeSecrets(home, { 'ig.key': sim.apiKey, 'ig.user': sim.identifier, 'ig.pass': sim.password });
    const EPIC = 'CS.D.EURUSD.CFD.IP';
    const config = resolveConfig({
      server: { port: 0 },
      venues: [
        {
          id: 'ig',
          type: 'ig',
          secrets: { apiKey: 'ig.key', identifier: 'ig.user', password: 'ig.pass' },
          options: { url, markets: { 'EUR/USD': EPIC }, stop: { kind: 'normal', distance: 30 } },
        },
      ],
      // 1m bars from the venue's candles (no barSeconds); periods so long that the strategy never signals.
      deployments: [
        {
          id: 'fx1m',
          strategy: 'sma-cross',
          params: { fast: 100, slow: 200 },
          venue: 'ig',
          symbols: ['EUR/USD'],
          capitalCap: 100_000,
        },
      ],
      risk: { venueRequestsPerMinute: 6_000 },
      runtime: { warmupBars: 5, pollMs: 100, staleAfterSeconds: 60, heartbeatSeconds: 5 },
    });
    runtime = await startRuntime({ config, profile: 'dev', home, env: { TRADEFORGE_MASTER_KEY: MASTER_KEY } });
    const dep = runtime.deployments[0];
    const venue = dep.venue.venue as IgVenue;
    const count = (prefix: string) => sim.log.filter((l) => l.startsWith(prefix)).length;
    await waitFor('the CHART item subscribed', () =>
      sim.streaming.controls.some((c) => c.LS_op === 'add' && c.LS_group === `CHART:${EPIC}:1MINUTE`),
    );
    await waitFor('the ACCOUNT figures streamed', () => venue.streamLive && venue.accountStreamed);
    // Past warm-up (its price history read is the last one) and the start's account reads.
    const histories = count('GET /prices');
    const accounts = count('GET /accounts');
    const balance = await runtime.control.balance();
    const rest = (await venue.client.accounts())[0]?.balance;
    expect(balance.assets.find((a) => a.asset === 'USD')).toEqual({
      asset: 'USD',
      free: rest?.available,
      used: rest?.deposit,
      total: (rest?.available ?? 0) + (rest?.deposit ?? 0),
    });
    expect(count('GET /accounts')).toBe(accounts + 1); // the test's own REST read, after the runtime's answer
    // A minute of prices, then the simulator's clock past its end: IG ends the candle and the runtime's bar closes.
    const columns = dep.engine.feeds[0].columns;
    const bars = columns.length;
    const minute = Math.floor(sim.now() / 60_000) * 60_000;
    for (const [bid, offer] of [
      [11_012.2, 11_012.8],
      [10_991.4, 10_992.0],
      [11_003.6, 11_004.2],
    ] as const)
      sim.setPrice(EPIC, bid, offer);
    shift += 60_000 - (sim.now() % 60_000) + 5;
    await waitFor(
      'the bar closed from the stream',
      () => columns.length > bars && columns.time[columns.length - 1] === minute,
      {
        log: () => JSON.stringify({ rows: columns.length, last: columns.time[columns.length - 1], minute }),
      },
    );
    expect(count('GET /prices')).toBe(histories);
    const row = columns.length - 1;
    const fromRest = (await venue.client.prices(EPIC, 'MINUTE', 5)).find((b) => b.time === minute);
    expect({
      time: columns.time[row],
      open: columns.open[row],
      high: columns.high[row],
      low: columns.low[row],
      close: columns.close[row],
      volume: columns.volume[row],
    }).toEqual(fromRest);
  });
});
