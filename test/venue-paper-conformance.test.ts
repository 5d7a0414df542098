/** The paper venue passes the venue conformance suite on live prices from real ccxt (keyless) over the simulator. */
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { PaperVenue } from '../src/venues/paper/index.js';
import { startSimulator } from '../src/venues/simulator/index.js';
import { describeVenueConformance } from './conformance/venue-conformance.js';

describeVenueConformance('paper venue on ccxt binance market data from the simulator', async () => {
  const sim = await startSimulator({ seed: 11, tickIntervalMs: 50 });
  // No API key: paper trading reads public market data only.
  const market = new CcxtVenue({ exchange: 'binance', urls: sim.ccxtUrls(), rateLimitMs: 1, timeoutMs: 3_000 });
  const venue = new PaperVenue({ market, balances: { USDT: 10_000 } });
  return {
    venue,
    symbol: 'BTC/USDT',
    teardown: async () => {
      await market.close();
      await sim.close();
    },
  };
});
