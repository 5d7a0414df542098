/**
 * `venues[].userStream` (src/app/venues.ts): the runtime's simulator and ccxt venues read orders and fills from the
 * user-data stream first (the default), REST polling only while it is down, and report each switch; `false` polls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildVenues, type UserStreamStatus } from '../src/app/venues.js';
import { resolveConfig } from '../src/core/config.js';
import { ConfigError } from '../src/core/errors.js';
import type { VenueFill } from '../src/core/venue.js';
import type { CcxtVenue } from '../src/venues/ccxt/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

let sim: SimulatorHandle;
beforeAll(async () => {
  sim = await startSimulator({ seed: 4, tickIntervalMs: 0, balances: { USDT: 10_000 } });
});
afterAll(async () => sim.close());

const configWith = (venue: Record<string, unknown>) =>
  resolveConfig({
    venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url }, ...venue }],
    deployments: [{ id: 'd', strategy: 'sma-cross', venue: 'sim', symbols: ['BTC/USDT'] }],
    runtime: { pollMs: 25 },
  });
const noSecrets = async () => undefined;
const MY_TRADES = ['GET', '/api/v3/myTrades'] as const;

describe('venues[].userStream', () => {
  it.each([
    ['unset (the default)', {}],
    ['true', { userStream: true }],
  ])(
    '%s: fills come from the user-data stream, nothing is polled while it is up, and each switch is reported',
    async (_, venueKeys) => {
      const modes: UserStreamStatus[] = [];
      const subscribes = sim.userData.stats.subscribes;
      const venues = await buildVenues(configWith(venueKeys), 'dev', noSecrets, undefined, undefined, (id, s) => {
        expect(id).toBe('sim');
        modes.push(s);
      });
      const built = venues.get('sim')!;
      const fills: VenueFill[] = [];
      const sub = built.venue.watchFills((f) => fills.push(f));
      try {
        expect((built.venue as CcxtVenue).userStreaming).toBe(true);
        await until('the fill feed on the stream', () => modes.some((m) => m.feed === 'fills' && m.mode === 'stream'));
        expect(sim.userData.stats.subscribes).toBeGreaterThan(subscribes);
        const polled = sim.requestCount(...MY_TRADES);
        await built.venue.placeOrder({
          clientOrderId: 'us-1',
          symbol: 'BTC/USDT',
          side: 'buy',
          type: 'market',
          quantity: 0.001,
        });
        await until('the fill', () => fills.length === 1);
        expect(fills[0].clientOrderId).toBe('us-1');
        // Through the stream only: the REST trade list was not read for it.
        expect(sim.requestCount(...MY_TRADES)).toBe(polled);

        // The stream drops: polling takes over, reported with its cause, until the stream is back.
        const seen = modes.length;
        sim.faults.dropUserDataStreams();
        await until('the switch to polling', () =>
          modes.slice(seen).some((m) => m.feed === 'fills' && m.mode === 'poll'),
        );
        expect(modes.slice(seen).find((m) => m.mode === 'poll')?.cause).toBeInstanceOf(Error);
        await until('the stream again', () => modes.slice(seen).at(-1)?.mode === 'stream');
        expect(fills).toHaveLength(1);
      } finally {
        sub.close();
        for (const v of venues.values()) await v.close();
      }
    },
  );

  it.each([['false', { userStream: false }]])(
    '%s: orders and fills are polled over REST, no user-data subscription is made',
    async (_, venueKeys) => {
      const modes: UserStreamStatus[] = [];
      const subscribes = sim.userData.stats.subscribes;
      const venues = await buildVenues(configWith(venueKeys), 'dev', noSecrets, undefined, undefined, (_, s) =>
        modes.push(s),
      );
      const built = venues.get('sim')!;
      const polled = sim.requestCount(...MY_TRADES);
      const sub = built.venue.watchFills(() => undefined);
      try {
        expect((built.venue as CcxtVenue).userStreaming).toBe(false);
        await until('two polls', () => sim.requestCount(...MY_TRADES) >= polled + 2);
        expect(sim.userData.stats.subscribes).toBe(subscribes);
        expect(modes).toEqual([]);
      } finally {
        sub.close();
        for (const v of venues.values()) await v.close();
      }
    },
  );

  it('is refused where it would do nothing, and must be a boolean', async () => {
    const paper = resolveConfig({
      venues: [{ id: 'p', type: 'paper', userStream: true, options: { url: sim.url } }],
      deployments: [{ id: 'd', strategy: 'sma-cross', venue: 'p', symbols: ['BTC/USDT'] }],
    });
    const err = await buildVenues(paper, 'dev', noSecrets).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toMatch(/venues\.0\.userStream.*only simulator and ccxt venues/);
    expect(() => configWith({ userStream: 'yes' })).toThrow(/venues\.0\.userStream/);
  });
});

// A failure detector, not a time budget: generous because the box may be loaded.
async function until(what: string, cond: () => boolean, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
