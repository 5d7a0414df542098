import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Strategy } from '../src/strategy/types.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { DEFAULT_MARKETS, type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { assembleDeployment } from './fixtures/runtime/kit.js';
import { waitFor } from './fixtures/wait.js';

// A deployment's protective stop on a futures venue (the runtime's ProtectiveStops through the bridge, on ccxt's
// binanceusdm against the simulator): it rests at the venue's Algo Service as a reduce-only STOP_MARKET for the whole
// position — a SELL below a long, a BUY above a short — and the venue, not the engine, closes the position when the
// price crosses it; the fill is booked.
const idle: Strategy = {};
const SYM = 'BTCUSDT';

let sim: SimulatorHandle;
let venue: CcxtVenue;
beforeAll(async () => {
  sim = await startSimulator({
    seed: 51,
    tickIntervalMs: 50,
    markets: DEFAULT_MARKETS.map((m) => ({ ...m, volatility: 0 })),
  });
  venue = new CcxtVenue({
    exchange: 'binanceusdm',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
    pollIntervalMs: 50,
    symbols: ['BTC/USDT'],
    futures: { leverage: 5 },
  });
  await venue.connect();
});

/** A buy stop's trigger: `level` rounded up to the 0.01 tick. */
function expectAbove(trigger: number, level: number): void {
  expect(trigger).toBeGreaterThanOrEqual(level - 1e-9);
  expect(trigger).toBeLessThan(level + 0.01);
}

afterAll(async () => {
  await venue?.close();
  await sim?.close();
});

describe('protective stops on a futures venue', () => {
  it('rest at the venue reduce-only for the whole long, and the venue closes the position through them', async () => {
    expect(venue.capabilities.stopOrders).toBe(true);
    sim.futures.setPrice(SYM, 30_000);
    const d = await assembleDeployment(venue, idle, { stopLoss: 0.05 });
    d.feed.start();
    d.bridge.start();
    const e = d.engine;
    const pf = e.portfolio;
    try {
      await waitFor('a live price', () => pf.last[0] > 0);
      e.submitIntent({ strategyId: 'kit', symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 0.02 });
      await waitFor('the long booked', () => Math.abs(pf.qty[0] - 0.02) < 1e-9);
      await waitFor('the stop resting at the venue', () => sim.futures.algo.open(SYM).length === 1);
      const [stop] = sim.futures.algo.open(SYM);
      expect(stop).toMatchObject({ orderType: 'STOP_MARKET', side: 'SELL', reduceOnly: true, quantity: 0.02 });
      expect(stop.triggerPrice).toBeCloseTo(pf.avg[0] * 0.95, 1);
      expect(sim.futures.account.position(SYM).qty).toBeCloseTo(0.02, 10);

      // The price falls through the stop: the venue sells, and the fill comes back to the book.
      sim.futures.setPrice(SYM, Math.floor(stop.triggerPrice) - 50);
      expect(sim.futures.account.position(SYM).qty).toBe(0);
      await waitFor('the stop fill booked', () => Math.abs(pf.qty[0]) < 1e-9);
      expect(sim.futures.algo.find(stop.algoId)?.algoStatus).toBe('FINISHED');
      // Flat: no stop left at the venue, and none placed again.
      await d.bridge.drain();
      expect(sim.futures.algo.open(SYM)).toEqual([]);
      expect(sim.futures.exchange.openOrders(SYM)).toEqual([]);
    } finally {
      d.feed.close();
      d.bridge.close();
    }
  });

  it('rest above a short as a reduce-only BUY, follow adds and partial covers, and the venue covers through them', async () => {
    sim.futures.setPrice(SYM, 30_000);
    // Its own client id prefix: the engine's ids start again, and the venue must not take them for the long's orders.
    const d = await assembleDeployment(venue, idle, { stopLoss: 0.05, bridge: { clientIdPrefix: 'kits-' } });
    d.feed.start();
    d.bridge.start();
    const e = d.engine;
    const pf = e.portfolio;
    const sell = (quantity: number) =>
      e.submitIntent({ strategyId: 'kit', symbol: 'BTC/USDT', side: 'sell', type: 'market', quantity });
    const restingStop = async (qty: number) => {
      await waitFor(`one stop for ${qty} at the venue`, () => {
        const open = sim.futures.algo.open(SYM);
        return open.length === 1 && Math.abs(open[0].quantity - qty) < 1e-9;
      });
      await d.bridge.drain();
      const open = sim.futures.algo.open(SYM);
      expect(open).toHaveLength(1);
      return open[0];
    };
    try {
      await waitFor('a live price', () => pf.last[0] > 0);
      expect(sell(0.02)).not.toBeNull();
      await waitFor('the short booked', () => Math.abs(pf.qty[0] + 0.02) < 1e-9);
      expect(sim.futures.account.position(SYM).qty).toBeCloseTo(-0.02, 10);
      let stop = await restingStop(0.02);
      // Above the entry by the stop-loss, rounded up to the tick (away from the market), and reduce-only.
      expect(stop).toMatchObject({ orderType: 'STOP_MARKET', side: 'BUY', reduceOnly: true, quantity: 0.02 });
      expectAbove(stop.triggerPrice, pf.avg[0] * 1.05);

      // Adding to the short: the stop is replaced for the whole position at the new average entry.
      sim.futures.setPrice(SYM, 30_300);
      expect(sell(0.01)).not.toBeNull();
      await waitFor('the add booked', () => Math.abs(pf.qty[0] + 0.03) < 1e-9);
      stop = await restingStop(0.03);
      expect(stop.side).toBe('BUY');
      expectAbove(stop.triggerPrice, pf.avg[0] * 1.05);

      // A partial cover (reduce-only, as the engine's exits are): the stop shrinks to what is left.
      e.submitIntent({
        strategyId: 'kit',
        symbol: 'BTC/USDT',
        side: 'buy',
        type: 'market',
        quantity: 0.01,
        reduceOnly: true,
        source: 'exit',
      });
      await waitFor('the partial cover booked', () => Math.abs(pf.qty[0] + 0.02) < 1e-9);
      stop = await restingStop(0.02);
      expect(stop.side).toBe('BUY');

      // The price rises through the stop: the venue buys the short back, and the fill comes back to the book.
      const trades = pf.tradeCount;
      sim.futures.setPrice(SYM, Math.ceil(stop.triggerPrice) + 50);
      expect(sim.futures.account.position(SYM).qty).toBe(0);
      await waitFor('the stop fill booked', () => Math.abs(pf.qty[0]) < 1e-9);
      expect(sim.futures.algo.find(stop.algoId)?.algoStatus).toBe('FINISHED');
      expect(pf.tradeCount).toBeGreaterThan(trades);
      expect(pf.trades.at(-1)).toMatchObject({ exitReason: 'stop_loss' });
      await d.bridge.drain();
      expect(sim.futures.algo.open(SYM)).toEqual([]);
      expect(sim.futures.exchange.openOrders(SYM)).toEqual([]);
    } finally {
      d.feed.close();
      d.bridge.close();
    }
  });
});
