/**
 * A deployment names an IG venue in config (VENUE-2): `buildVenues` builds the IG adapter against the IG simulator
 * (`options.url`), reads its credentials from the vault by the secret names the entry gives, draws its requests on
 * the venue's request budget (IG's 30 a minute), sizes client order ids to IG's deal references, and refuses a
 * config it cannot honour with a one-line error naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildVenues } from '../src/app/venues.js';
import { resolveConfig } from '../src/core/config.js';
import { ConfigError } from '../src/core/errors.js';
import { IgVenue } from '../src/venues/ig/ig-venue.js';
import { IgSimulator } from '../src/venues/ig/simulator.js';
import { waitFor } from './fixtures/wait.js';

const sim = new IgSimulator();
let url = '';
beforeAll(async () => {
  url = await sim.start();
});
afterAll(() => sim.stop());

const vault = new Map([
  ['ig.key', sim.apiKey],
  ['ig.user', sim.identifier],
  ['ig.pass', sim.password],
]);
const lookup = async (name: string) => vault.get(name);

const configWith = (venue: Record<string, unknown>) =>
  resolveConfig({
    venues: [
      {
        id: 'ig-demo',
        type: 'ig',
        secrets: { apiKey: 'ig.key', identifier: 'ig.user', password: 'ig.pass' },
        ...venue,
        options: {
          markets: { 'EUR/USD': 'CS.D.EURUSD.CFD.IP' },
          stop: { kind: 'trailing', distance: 25, increment: 5 },
          ...(venue.options as Record<string, unknown>),
        },
      },
    ],
    deployments: [{ id: 'fx', strategy: 'sma-cross', venue: 'ig-demo', symbols: ['EUR/USD'] }],
  });

async function configError(p: Promise<unknown>): Promise<ConfigError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

describe('an IG venue named in config', () => {
  it('is built on the simulator with vault credentials, the venue budget and IG-sized client ids', async () => {
    const venues = await buildVenues(configWith({ options: { url } }), 'dev', lookup);
    const built = venues.get('ig-demo');
    try {
      expect(built?.venue).toBeInstanceOf(IgVenue);
      expect(built?.real).toBe(false);
      expect(built?.maxClientIdLength).toBe(30);
      expect(built?.serverTimeResolutionMs).toBe(1_000);
      const budget = built?.budget;
      expect(budget?.limit).toBe(30);
      // connect() already read the allowances, markets and positions through the budget.
      const used = budget?.used(Date.now()) ?? 0;
      expect(used).toBeGreaterThan(0);
      const [b] = (await built?.resilient.fetchBalances()) ?? [];
      expect(b).toMatchObject({ asset: 'USD', free: 10_000 });
      expect(budget?.used(Date.now())).toBe(used + 1);
      const o = await built?.resilient.placeOrder({
        clientOrderId: 'cfg1',
        symbol: 'EUR/USD',
        side: 'buy',
        type: 'market',
        quantity: 1,
      });
      expect(o?.status).toBe('filled');
      // The configured trailing stop is on the position IG holds.
      expect(sim.positions.at(-1)).toMatchObject({ trailingStopDistance: 25, trailingStep: 5 });
    } finally {
      for (const v of venues.values()) await v.close();
    }
  });

  it('streams from IG by default; `streaming: false` keeps to REST polling', async () => {
    const streamed = await buildVenues(configWith({ options: { url } }), 'dev', lookup);
    const polled = await buildVenues(configWith({ options: { url, streaming: false } }), 'dev', lookup);
    try {
      const on = streamed.get('ig-demo')?.venue as IgVenue;
      const off = polled.get('ig-demo')?.venue as IgVenue;
      await waitFor('the stream of the default venue', () => on.streamLive);
      // The default venue's stream logged in once (its TRADE and ACCOUNT items); the other never asked for a
      // streaming session.
      expect(sim.streaming.subscriptionCount()).toBe(2);
      expect(off.streamLive).toBe(false);
    } finally {
      for (const v of [...streamed.values(), ...polled.values()]) await v.close();
    }
  });

  it('names the secrets missing from the vault', async () => {
    const err = await configError(
      buildVenues(
        configWith({ options: { url }, secrets: { apiKey: 'ig.key', identifier: 'ig.user', password: 'nope' } }),
        'dev',
        lookup,
      ),
    );
    expect(err.key).toBe('venues.0.secrets');
    expect(err.message).toMatch(/missing: secrets.password = "nope"/);
  });

  it('refuses the live gateway in profile dev, dry_run (no IG paper mode yet) and bad options, naming the field', async () => {
    const live = await configError(buildVenues(configWith({ options: { environment: 'live' } }), 'dev', lookup));
    expect(live.key).toBe('venues.0.options.environment');
    const dry = await configError(buildVenues(configWith({ options: { url } }), 'dry_run', lookup));
    expect(dry.message).toMatch(/no paper mode for IG/);
    const bad = await configError(
      buildVenues(configWith({ options: { url, stop: { kind: 'normal', distance: -3 } } }), 'dev', lookup),
    );
    expect(bad.key).toBe('venues.0.options.stop.distance');
    const trailing = await configError(
      buildVenues(configWith({ options: { url, stop: { kind: 'trailing', distance: 20 } } }), 'dev', lookup),
    );
    expect(trailing.key).toBe('venues.0.options.stop.increment');
  });
});
