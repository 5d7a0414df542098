/** The ccxt adapter (real ccxt binance class) passes the venue conformance suite against the simulator. */
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { startSimulator } from '../src/venues/simulator/index.js';
import { describeVenueConformance } from './conformance/venue-conformance.js';

describeVenueConformance('ccxt binance on the simulator', async () => {
  const sim = await startSimulator({ seed: 7, tickIntervalMs: 50 });
  const venue = new CcxtVenue({
    exchange: 'binance',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
    timeoutMs: 3_000,
  });
  return { venue, symbol: 'BTC/USDT', teardown: () => sim.close() };
});

// The REST polling path for orders and fills (the user-data stream's fallback) passes the same suite.
describeVenueConformance('ccxt binance on the simulator, orders and fills polled over REST', async () => {
  const sim = await startSimulator({ seed: 8, tickIntervalMs: 50 });
  const venue = new CcxtVenue({
    exchange: 'binance',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
    timeoutMs: 3_000,
    pollIntervalMs: 100,
    userStream: false,
  });
  return { venue, symbol: 'BTC/USDT', teardown: () => sim.close() };
});
