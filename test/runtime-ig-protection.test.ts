import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Strategy } from '../src/strategy/types.js';
import { IgClient } from '../src/venues/ig/client.js';
import { IgVenue } from '../src/venues/ig/ig-venue.js';
import { IgSimulator } from '../src/venues/ig/simulator.js';
import { assembleDeployment } from './fixtures/runtime/kit.js';
import { waitFor } from './fixtures/wait.js';

// A deployment's protective stop for a short on IG (the runtime's ProtectiveStops through the bridge and the IG
// adapter, against the IG simulator on loopback): IG already puts a broker-side stop on the short's opening deal, and
// the runtime's stop rests beside it as a BUY working order against the position (forceOpen false: it closes, never
// opens), above the entry by the stop-loss, for the whole short — replaced after an add, deleted when the short is
// covered.
const idle: Strategy = {};
const EPIC = 'CS.D.EURUSD.CFD.IP';
const SYMBOL = 'EUR/USD';

const sim = new IgSimulator({
  accounts: [{ accountId: 'ABC123', balance: 100_000 }],
  allowances: { accountTrading: 10_000, accountOverall: 100_000 },
});
let venue: IgVenue;
beforeAll(async () => {
  const url = await sim.start();
  venue = new IgVenue({
    client: new IgClient({
      baseUrl: url,
      apiKey: sim.apiKey,
      identifier: sim.identifier,
      password: sim.password,
      nonTradingPerMinute: 10_000,
    }),
    markets: { [SYMBOL]: EPIC },
    stop: { kind: 'normal', distance: 20 },
    pollIntervalMs: 50,
  });
  await venue.connect();
});

afterAll(async () => {
  await venue?.close();
  await sim.stop();
});

/** The runtime's working stops at IG. */
const stops = () => sim.workingOrders.filter((w) => w.orderType === 'STOP');

describe('protective stops for a short on IG', () => {
  it('rest as a BUY working order against the short beside the broker-side stop, follow adds, go with the short', async () => {
    expect(venue.capabilities).toMatchObject({ stopOrders: true, positions: true });
    const d = await assembleDeployment(venue, idle, { symbol: SYMBOL, stopLoss: 0.01 });
    d.feed.start();
    d.bridge.start();
    const e = d.engine;
    const pf = e.portfolio;
    const trade = (side: 'buy' | 'sell', quantity: number, reduceOnly = false) =>
      e.submitIntent({
        strategyId: 'kit',
        symbol: SYMBOL,
        side,
        type: 'market',
        quantity,
        ...(reduceOnly ? { reduceOnly: true, source: 'exit' as const } : {}),
      });
    const oneStop = async (size: number) => {
      await waitFor(`one working stop of ${size}`, () => stops().length === 1 && stops()[0].orderSize === size);
      await d.bridge.drain();
      expect(stops()).toHaveLength(1);
      return stops()[0];
    };
    try {
      await waitFor('a live price', () => pf.last[0] > 0);
      expect(trade('sell', 0.5)).not.toBeNull();
      await waitFor('the short booked', () => Math.abs(pf.qty[0] + 0.5) < 1e-9);
      // IG's own broker-side stop on the short's deal (the adapter's policy: 20 points above).
      expect(sim.positions).toHaveLength(1);
      expect(sim.positions[0]).toMatchObject({ direction: 'SELL', size: 0.5 });
      expect(sim.positions[0].stopLevel).toBeCloseTo(11_000.2 + 20, 6);
      let w = await oneStop(0.5);
      expect(w).toMatchObject({ direction: 'BUY', forceOpen: false, stopDistance: null });
      // Above the entry by 1 %, rounded up to IG's 0.1 tick.
      expect(w.orderLevel).toBeGreaterThanOrEqual(pf.avg[0] * 1.01 - 1e-9);
      expect(w.orderLevel).toBeLessThan(pf.avg[0] * 1.01 + 0.1);

      // An add: one working stop for the whole short.
      expect(trade('sell', 0.5)).not.toBeNull();
      await waitFor('the add booked', () => Math.abs(pf.qty[0] + 1) < 1e-9);
      w = await oneStop(1);
      expect(w.direction).toBe('BUY');

      // Covered: the working stop is deleted with the short.
      expect(trade('buy', 1, true)).not.toBeNull();
      await waitFor('flat', () => Math.abs(pf.qty[0]) < 1e-9);
      await waitFor('no working stop left', () => stops().length === 0);
      await d.bridge.drain();
      expect(sim.positions).toEqual([]);
      expect(stops()).toEqual([]);
    } finally {
      d.feed.close();
      d.bridge.close();
    }
  });
});
