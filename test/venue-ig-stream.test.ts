/**
 * IG's streaming API through Lightstreamer's own Node client, against the IG simulator's Lightstreamer stub: prices
 * streamed on MARKET items, a stop IG executed seen at once through the TRADE item's OPU (polling slowed to a safety
 * net that could not have seen it), a new streaming login after the weekend invalidation, IG's 40-subscription
 * limit, and polling at full rate when the stream cannot log in.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VenueError } from '../src/core/errors.js';
import type { Ticker } from '../src/core/bar.js';
import type { VenueFill } from '../src/core/venue.js';
import { IgClient } from '../src/venues/ig/client.js';
import { IgVenue, type IgVenueOptions } from '../src/venues/ig/ig-venue.js';
import { IgSimulator } from '../src/venues/ig/simulator.js';
import { IG_MAX_SUBSCRIPTIONS, IgStream } from '../src/venues/ig/stream.js';
import { waitFor } from './fixtures/wait.js';

const ROOT = resolve(import.meta.dirname, '..');
const EPIC = 'CS.D.EURUSD.CFD.IP';
const SYMBOL = 'EUR/USD';
const sim = new IgSimulator({
  accounts: [{ accountId: 'ABC123', balance: 50_000 }],
  allowances: { accountTrading: 1_000, accountOverall: 1_000 },
});
let baseUrl = '';
beforeAll(async () => {
  baseUrl = await sim.start();
});
afterAll(() => sim.stop());
const venues: IgVenue[] = [];
afterEach(async () => {
  for (const v of venues.splice(0)) await v.close();
  sim.positions.splice(0);
});

const subscribed = (item: string) => sim.streaming.controls.some((c) => c.LS_op === 'add' && c.LS_group === item);

// Polling so slow that within a test only the stream can deliver (the REST read a kick starts is still the truth).
const SLOW_MS = 600_000;

function makeVenue(over: Partial<IgVenueOptions> = {}) {
  const alerts: string[] = [];
  const client = new IgClient({
    baseUrl,
    apiKey: sim.apiKey,
    identifier: sim.identifier,
    password: sim.password,
    nonTradingPerMinute: 1_000,
  });
  const venue = new IgVenue({
    client,
    markets: { [SYMBOL]: EPIC },
    stop: { kind: 'normal', distance: 20 },
    streaming: true,
    pollIntervalMs: SLOW_MS,
    streamPollIntervalMs: SLOW_MS,
    onAlert: (m) => alerts.push(m),
    ...over,
  });
  venues.push(venue);
  return { venue, client, alerts };
}

describe('IG streaming (Lightstreamer)', () => {
  it('streams prices on the MARKET item: each quote the market moves to arrives without a REST read', async () => {
    const { venue } = makeVenue();
    await venue.connect();
    await waitFor('the stream live', () => venue.streamLive);
    const ticks: Ticker[] = [];
    const sub = venue.watchTicker(SYMBOL, (t) => ticks.push(t));
    const restReads = () => sim.log.filter((l) => l.startsWith('GET /markets/')).length;
    // The first REST read of the poller happens at once; after it, only the stream can bring a new quote.
    await waitFor('the first quote', () => ticks.length > 0);
    const reads = restReads();
    await waitFor('the MARKET subscription', () => subscribed(`MARKET:${EPIC}`));
    sim.setPrice(EPIC, 11_010.2, 11_010.8);
    await waitFor('the streamed quote', () => ticks.some((t) => t.bid === 11_010.2));
    sim.setPrice(EPIC, 11_012.4, 11_013.0);
    await waitFor('the next streamed quote', () => ticks.some((t) => t.ask === 11_013.0));
    const last = ticks.at(-1);
    expect(last).toMatchObject({ symbol: SYMBOL, bid: 11_012.4, ask: 11_013.0 });
    expect(last?.last).toBeCloseTo(11_012.7, 9);
    expect(restReads()).toBe(reads);
    sub.close();
  });

  it('a stop IG executes is a fill at once: the OPU on the TRADE item starts the positions read', async () => {
    const { venue, alerts } = makeVenue();
    await venue.connect();
    await waitFor('the stream live', () => venue.streamLive);
    // Live means the TRADE subscription is active too: a deal from here on is streamed.
    const fills: VenueFill[] = [];
    const sub = venue.watchFills((f) => fills.push(f));
    const order = await venue.placeOrder({
      clientOrderId: `s${Date.now().toString(36)}`,
      symbol: SYMBOL,
      side: 'buy',
      type: 'market',
      quantity: 1,
    });
    expect(order.status).toBe('filled');
    const dealId = sim.positions[0]?.dealId;
    expect(dealId).toBeDefined();
    // The baseline positions read happened when the subscription started; the next one only on an OPU.
    const reads = () => sim.log.filter((l) => l.startsWith('GET /positions')).length;
    await waitFor('the baseline positions read', () => reads() > 0);
    const before = fills.length;
    expect(sim.hitStop(dealId as string)).toBe(true);
    await waitFor('the stop-out fill', () => fills.length > before, {
      log: () => JSON.stringify({ fills, requests: sim.log.slice(-12), alerts }),
    });
    const stopFill = fills.at(-1);
    expect(stopFill).toMatchObject({ symbol: SYMBOL, side: 'sell', quantity: 1 });
    sub.close();
  });

  it('logs in to the stream again after the weekend invalidation and keeps streaming', async () => {
    const { venue, client } = makeVenue();
    await venue.connect();
    await waitFor('the stream live', () => venue.streamLive);
    const ticks: Ticker[] = [];
    const sub = venue.watchTicker(SYMBOL, (t) => ticks.push(t));
    await waitFor('the first quote', () => ticks.length > 0);
    const logins = client.logins;
    sim.invalidateSessions();
    // The stub ends the streaming session with the REST ones; the venue must log in again to stream again.
    await waitFor('a new REST login for the stream', () => client.logins > logins);
    await waitFor('the stream live again', () => venue.streamLive);
    await waitFor('the MARKET item subscribed again', () => sim.streaming.subscriptionCount() > 0);
    sim.setPrice(EPIC, 11_020.2, 11_020.8);
    await waitFor('a quote streamed after the new login', () => ticks.some((t) => t.bid === 11_020.2));
    sub.close();
  });

  it(`refuses a subscription past IG's ${IG_MAX_SUBSCRIPTIONS}`, async () => {
    const client = new IgClient({
      baseUrl,
      apiKey: sim.apiKey,
      identifier: sim.identifier,
      password: sim.password,
      nonTradingPerMinute: 1_000,
    });
    await client.connect();
    const stream = new IgStream(() => client.streamLogin());
    try {
      await stream.connect();
      const subs = Array.from({ length: IG_MAX_SUBSCRIPTIONS }, (_, i) =>
        stream.subscribe('MERGE', [`MARKET:X${i}`], ['BID'], () => {}),
      );
      expect(stream.size).toBe(IG_MAX_SUBSCRIPTIONS);
      const past = (() => {
        try {
          stream.subscribe('MERGE', ['MARKET:ONE.TOO.MANY'], ['BID'], () => {});
        } catch (err) {
          return err;
        }
      })();
      expect(past).toBeInstanceOf(VenueError);
      expect((past as VenueError).code).toBe('VENUE_LIMIT');
      await waitFor('the 40 held at the server', () => sim.streaming.subscriptionCount() === IG_MAX_SUBSCRIPTIONS);
      subs[0].close();
      expect(stream.size).toBe(IG_MAX_SUBSCRIPTIONS - 1);
    } finally {
      stream.close();
    }
  });

  it('does not keep a process alive: one that imports it and closes its stream exits by itself', async () => {
    // Lightstreamer's client starts a scheduler interval when it loads; a CLI command whose imports reach the IG
    // venue never exited before that interval was made not to hold the process.
    const code = [
      `import { IgStream } from ${JSON.stringify(join(ROOT, 'src/venues/ig/stream.ts'))};`,
      `const s = new IgStream(async () => ({ endpoint: ${JSON.stringify(`${baseUrl.replace('/gateway/deal', '')}`)}, user: 'x', password: 'y' }));`,
      'await s.connect();',
      's.close();',
      "console.log('closed');",
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: ROOT });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    // A hang guard only: the assertion is that the child exits on its own, with nothing left to keep it.
    const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
    const [status, signal] = await new Promise<[number | null, string | null]>((r) =>
      child.once('exit', (c, s) => r([c, s])),
    );
    clearTimeout(guard);
    expect(out).toContain('closed');
    expect({ status, signal }).toEqual({ status: 0, signal: null });
  });

  it('polls at full rate, with an alert, when the stream cannot log in', async () => {
    const { venue, alerts } = makeVenue({ pollIntervalMs: 20 });
    sim.failNext(500, 'error.sim.no-stream', { method: 'GET', path: '/session' });
    await venue.connect();
    expect(venue.streamLive).toBe(false);
    expect(alerts.some((a) => /IG stream not started/.test(a))).toBe(true);
    const ticks: Ticker[] = [];
    const sub = venue.watchTicker(SYMBOL, (t) => ticks.push(t));
    sim.setPrice(EPIC, 11_030.2, 11_030.8);
    // No stream: only polling at the full rate brings the new quote.
    await waitFor('the polled quote', () => ticks.some((t) => t.bid === 11_030.2));
    sub.close();
  });
});
