/**
 * The ccxt adapter in futures mode (ccxt's binanceusdm) passes the venue conformance suite against the simulator's
 * USDⓈ-M futures API, with its rate-limit refusal.
 */
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { startSimulator } from '../src/venues/simulator/index.js';
import { describeVenueConformance } from './conformance/venue-conformance.js';

describeVenueConformance('ccxt binanceusdm (futures) on the simulator', async () => {
  const sim = await startSimulator({ seed: 9, tickIntervalMs: 50 });
  const venue = new CcxtVenue({
    exchange: 'binanceusdm',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
    timeoutMs: 3_000,
    pollIntervalMs: 100,
    symbols: ['BTC/USDT'],
    futures: { leverage: 10, marginMode: 'cross' },
  });
  return {
    venue,
    symbol: 'BTC/USDT',
    teardown: () => sim.close(),
    faults: { rateLimitNext: () => void sim.faults.rateLimitNext(1, 2, { path: '/fapi/v1/ticker/24hr' }) },
  };
});
