/**
 * Ten minutes of IG traffic on a simulated clock (issue 15: "a 10-minute soak against the IG simulator never exceeds
 * an allowance"): a price poller, a position/order poller and a trader run at once against the IG simulator with
 * IG's real allowances (30 non-trading and 100 trading requests a minute); the client's budgets make them wait
 * instead of being refused. The clock moves only when a budget makes a caller wait, so the run takes seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IgClient } from '../src/venues/ig/client.js';
import { IgVenue } from '../src/venues/ig/ig-venue.js';
import { IgSimulator } from '../src/venues/ig/simulator.js';

let clock = Date.UTC(2026, 0, 6, 8);
const sim = new IgSimulator({
  accounts: [{ accountId: 'ABC123', balance: 1_000_000 }],
  allowances: { accountTrading: 100, accountOverall: 30 },
  now: () => clock,
});
let baseUrl = '';
beforeAll(async () => {
  baseUrl = await sim.start();
});
afterAll(() => sim.stop());

describe('IG allowance soak (simulated 10 minutes)', () => {
  it('never exceeds an allowance while polling and trading flat out', async () => {
    const alerts: string[] = [];
    const client = new IgClient({
      baseUrl,
      apiKey: sim.apiKey,
      identifier: sim.identifier,
      password: sim.password,
      now: () => clock,
      sleep: async (ms) => {
        clock += ms;
        await new Promise((r) => setImmediate(r));
      },
      onAlert: (m) => alerts.push(m),
    });
    const venue = new IgVenue({
      client,
      markets: { 'EUR/USD': 'CS.D.EURUSD.CFD.IP' },
      stop: { kind: 'normal', distance: 20 },
    });
    await venue.connect();
    const start = clock;
    const end = start + 10 * 60_000;
    let deals = 0;
    let n = 0;
    const loops = [
      async () => {
        while (clock < end) await venue.fetchTicker('EUR/USD');
      },
      async () => {
        while (clock < end) {
          await venue.fetchPositions();
          await venue.fetchOpenOrders();
        }
      },
      async () => {
        while (clock < end) {
          const side = n % 2 === 0 ? 'buy' : 'sell';
          await venue.placeOrder({
            clientOrderId: `soak${n++}`,
            symbol: 'EUR/USD',
            side,
            type: 'market',
            quantity: 1,
          });
          deals++;
        }
      },
    ];
    await Promise.all(loops.map((l) => l()));
    await venue.close();
    expect(sim.allowanceRefusals).toBe(0);
    expect(alerts.filter((a) => a.includes('exceeded'))).toEqual([]);
    // The budgets were the limit, not idleness: close to 27 non-trading requests a minute (the reserve kept back).
    const minutes = (clock - start) / 60_000;
    const nonTrading = sim.log.filter((l) => l.startsWith('GET ')).length;
    expect(minutes).toBeGreaterThanOrEqual(10);
    expect(nonTrading / minutes).toBeGreaterThan(24);
    expect(nonTrading / minutes).toBeLessThanOrEqual(30);
    expect(deals).toBeGreaterThan(10);
  });
});
