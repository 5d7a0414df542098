/**
 * The IG adapter passes the venue conformance suite against the IG simulator on loopback (REST polling), with its
 * session invalidation (the weekend) and allowance refusal (403 exceeded-account-allowance) faults.
 */
import { IgClient } from '../src/venues/ig/client.js';
import { IgVenue } from '../src/venues/ig/ig-venue.js';
import { IgSimulator } from '../src/venues/ig/simulator.js';
import { describeVenueConformance } from './conformance/venue-conformance.js';

describeVenueConformance('ig on the IG simulator', async () => {
  // Allowances above what the suite spends in a minute: this run is about behaviour; the budgets have their own tests.
  const sim = new IgSimulator({ allowances: { accountTrading: 1_000, accountOverall: 10_000 } });
  const baseUrl = await sim.start();
  const client = new IgClient({
    baseUrl,
    apiKey: sim.apiKey,
    identifier: sim.identifier,
    password: sim.password,
    nonTradingPerMinute: 10_000,
  });
  const venue = new IgVenue({
    client,
    markets: { 'EUR/USD': 'CS.D.EURUSD.CFD.IP' },
    stop: { kind: 'normal', distance: 50 },
    pollIntervalMs: 50,
  });
  return {
    venue,
    symbol: 'EUR/USD',
    teardown: () => sim.stop(),
    faults: {
      invalidateSession: () => sim.invalidateSessions(),
      rateLimitNext: () => sim.failNext(403, 'error.public-api.exceeded-account-allowance'),
    },
  };
});
