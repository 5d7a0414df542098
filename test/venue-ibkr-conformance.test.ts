/**
 * The IBKR adapter (real @stoqey/ib client) passes the venue conformance suite against the fake TWS over the wire
 * protocol, with IB's nightly restart (a dropped connection the adapter re-opens) and a message-rate refusal (100)
 * as faults. The account is a cash account (a purchase needs its full cost), so margin moves by the cost of a fill.
 */
import { startFakeTws } from '../src/venues/ibkr/fake-tws.js';
import { IbkrVenue } from '../src/venues/ibkr/ibkr-venue.js';
import { describeVenueConformance } from './conformance/venue-conformance.js';

describeVenueConformance('ibkr on the fake TWS', async () => {
  const tws = await startFakeTws({ cash: 100_000, marginRates: { STK: 1, CASH: 1 }, quoteIntervalMs: 50 });
  const venue = new IbkrVenue({
    host: tws.host,
    port: tws.port,
    clientId: 4,
    symbols: ['AAPL/USD', 'EUR/USD'],
    reconnectDelayMs: 20,
    requestTimeoutMs: 5_000,
  });
  return {
    venue,
    symbol: 'AAPL/USD',
    teardown: () => tws.close(),
    faults: {
      // IB's nightly restart: TWS drops the API connection; the case goes on once the adapter saw the drop.
      invalidateSession: async () => {
        const down = new Promise<void>((resolve) => {
          const sub = venue.onConnectionState((s) => {
            if (s === 'disconnected') {
              sub.close();
              resolve();
            }
          });
        });
        tws.dropConnections();
        await down;
      },
      rateLimitNext: () => tws.failNext('mktData', 100, 'Max rate of messages per second has been exceeded:max=50'),
    },
  };
});
