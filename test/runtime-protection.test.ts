import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Strategy } from '../src/strategy/types.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import type { BridgeNotice } from '../src/venues/live/bridge.js';
import { ResilientVenue } from '../src/venues/resilience.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { assembleDeployment } from './fixtures/runtime/kit.js';
import { waitFor } from './fixtures/wait.js';

// Always-protected positions (issue 9): a randomised sequence of entries (some partly filled), take-profits resting
// on the venue, exits the venue rejects, cancels and price moves, on a spot account that holds no BTC of its own and
// pays fees in BTC. After every step, once the venue's reports are in, the position is covered on the venue: the
// protective stop plus resting exits hold at least what can be sold.
const idle: Strategy = {};
const LOT = 0.00001;

let sim: SimulatorHandle;
let inner: CcxtVenue;
beforeAll(async () => {
  sim = await startSimulator({ seed: 21, tickIntervalMs: 50, balances: { USDT: 1_000_000 } });
  inner = new CcxtVenue({
    exchange: 'binance',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
    pollIntervalMs: 50,
    symbols: ['BTC/USDT'],
  });
  await inner.connect();
});

afterAll(async () => {
  await inner?.close();
  await sim?.close();
});

type Step =
  | { kind: 'entry'; quantity: number; partial: boolean }
  | { kind: 'takeProfit'; fraction: number }
  | { kind: 'rejectedExit'; fraction: number }
  | { kind: 'exit'; fraction: number }
  | { kind: 'cancelTakeProfit' }
  | { kind: 'rally' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('entry' as const),
    quantity: fc.integer({ min: 100, max: 1000 }).map((n) => n * LOT),
    partial: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('takeProfit' as const), fraction: fc.double({ min: 0.2, max: 0.9, noNaN: true }) }),
  fc.record({ kind: fc.constant('rejectedExit' as const), fraction: fc.double({ min: 0.2, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('exit' as const), fraction: fc.double({ min: 0.2, max: 0.8, noNaN: true }) }),
  fc.constant({ kind: 'cancelTakeProfit' as const }),
  fc.constant({ kind: 'rally' as const }),
);

describe('protective stops under a random sequence of orders (fast-check)', () => {
  it('every open position is covered by venue-side protection after every step', async () => {
    const notices: BridgeNotice[] = [];
    let rejectedExits = 0;
    const venue = new ResilientVenue(inner, { retry: { maxAttempts: 1 } });
    const d = await assembleDeployment(venue, idle, {
      stopLoss: 0.05,
      bridge: { notify: (n) => notices.push(n) },
    });
    d.feed.start();
    d.bridge.start();
    const e = d.engine;
    const pf = e.portfolio;
    const m = sim.state.market('BTCUSDT');
    try {
      await waitFor('a live price', () => pf.last[0] > 0);

      /** Venue reports applied, queues empty, and our book equal to what the account holds. */
      const settle = async () => {
        const quiet = () => {
          const btc = sim.state.balance('BTC');
          return (
            d.bridge.queueDepth === 0 &&
            !e.exec.openOrders().some((o) => o.status === 'submitted') &&
            // Each buy may leave under one lot of dust on the account that is not booked.
            btc.free + btc.locked - pf.qty[0] > -1e-9 &&
            btc.free + btc.locked - pf.qty[0] < sim.state.trades.filter((t) => t.isBuyer).length * LOT + 1e-9
          );
        };
        // Twice in a row: a fill applied re-syncs the stop, which queues more work.
        for (let i = 0; i < 2; i++) {
          await waitFor('the venue and our book to agree', quiet);
          await d.bridge.drain();
        }
        await waitFor('the venue and our book to agree', quiet);
      };

      const sellable = () => Math.floor(pf.qty[0] / LOT + 1e-9) * LOT;
      const sell = (type: 'market' | 'limit', fraction: number, price?: number) => {
        const q = Math.floor((sellable() * fraction) / LOT) * LOT;
        if (q * m.last < 6) return null; // below the venue's minimum notional
        return e.submitIntent({
          strategyId: 'kit',
          symbol: 'BTC/USDT',
          side: 'sell',
          type,
          quantity: Number(q.toFixed(5)),
          ...(price !== undefined ? { price, timeInForce: 'GTC' as const } : {}),
          reduceOnly: true,
        });
      };

      /** The venue's truth: open stop and resting sell quantities against the position we can sell. */
      const assertCovered = (after: Step) => {
        const q = sellable();
        // Below the venue's minimum notional (5 USDT) nothing can be sold or protected: dust, not a position.
        if (q < LOT || q * m.last < 5) return;
        let stop = 0;
        let resting = 0;
        for (const o of sim.state.openOrders('BTCUSDT')) {
          if (o.side !== 'SELL') continue;
          const left = o.origQty - o.executedQty;
          if (o.type === 'STOP_LOSS') stop += left;
          else resting += left;
        }
        // What is left uncovered must be below the venue's smallest order (5 USDT): no order could cover it.
        const dust = 5 / m.last;
        expect(stop + resting, `after ${JSON.stringify(after)}: position ${q}`).toBeGreaterThanOrEqual(q - dust);
        // Resting exits hold only part of it unless they hold it all: a sellable rest is under the stop.
        if (resting < q - dust) expect(stop).toBeGreaterThan(0);
      };

      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 3, maxLength: 6 }), async (steps) => {
          for (const s of steps) {
            switch (s.kind) {
              case 'entry':
                if (s.partial) sim.faults.partialFillNext(1, 0.5);
                e.submitIntent({
                  strategyId: 'kit',
                  symbol: 'BTC/USDT',
                  side: 'buy',
                  type: 'market',
                  quantity: Number(s.quantity.toFixed(5)),
                });
                break;
              case 'takeProfit':
                sell('limit', s.fraction, Math.round(m.last * 1.03 * 100) / 100);
                break;
              case 'rejectedExit': {
                const before = notices.length;
                sim.faults.rejectNextOrders(1, 'Order rejected by the venue.');
                if (sell('market', s.fraction) === null) sim.faults.reset();
                else {
                  await waitFor('the rejection alert', () => notices.length > before);
                  rejectedExits++;
                }
                break;
              }
              case 'exit':
                sell('market', s.fraction);
                break;
              case 'cancelTakeProfit': {
                const tp = e.exec.openOrders().find((o) => o.type === 'limit' && o.side === 'sell');
                if (tp) e.cancelOrder(tp.id, 'test');
                break;
              }
              case 'rally': {
                // Crosses every resting take-profit.
                const top = Math.max(m.last, ...sim.state.openOrders('BTCUSDT').map((o) => o.price));
                sim.setPrice('BTCUSDT', Math.round(top * 1.01 * 100) / 100);
                break;
              }
            }
            await settle();
            assertCovered(s);
          }
        }),
        // A fixed seed: the same sequences on every run, so a failure reproduces.
        { numRuns: 4, endOnFailure: true, seed: 20_261_202 },
      );
      // Every exit the venue rejected was answered by re-placed protection and its alert (random sequences may
      // draw none; the property above held at every step either way).
      expect(notices.filter((n) => n.title === 'Exit rejected by the venue: protection re-placed').length).toBe(
        rejectedExits,
      );
      expect(sim.state.orders.some((o) => o.type === 'LIMIT' && o.side === 'SELL')).toBe(true);
    } finally {
      d.feed.close();
      d.bridge.close();
    }
  }, 600_000);
});

// A failure detector, not a time budget: generous because the box may be loaded.
