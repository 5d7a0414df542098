import { describe, expect, it } from 'vitest';
import type { DeploymentRuntime } from '../src/app/live/runtime-types.js';
import { openStore } from '../src/store/index.js';
import { DEFAULT_MARKETS } from '../src/venues/simulator/index.js';
import { simBed } from './fixtures/runtime/sim-bed.js';
import { waitFor } from './fixtures/wait.js';

// A short's protective stop across runtime restarts on the simulator's USDⓈ-M futures (the live runtime, real ccxt
// binanceusdm over loopback): the reduce-only BUY stop resting at the venue's Algo Service is found again by the
// reconciliation — no second stop, none missing —, an add after the restart resizes it, and a stop that fired while
// the runtime was down leaves the book flat with the venue's fill, booked as the stop-loss. A stop whose journal
// record was lost (power loss inside the fsync window) is recovered as the short's protective stop, not doubled.

const SYM = 'BTCUSDT';
const bed = simBed('futures-short-restart', {
  seed: 71,
  tickIntervalMs: 50,
  // A market that does not move: the stop triggers only when the test moves the price.
  markets: DEFAULT_MARKETS.map((m) => ({ ...m, volatility: 0 })),
});

const config = (id = 'perp-short') => ({
  venues: [
    {
      id: 'fut',
      type: 'simulator',
      exchange: 'binanceusdm',
      options: { url: bed.sim.url, futures: { leverage: 5 } },
    },
  ],
  deployments: [
    {
      id,
      strategy: 'sma-cross',
      params: { fast: 100, slow: 200 },
      venue: 'fut',
      symbols: ['BTC/USDT'],
      stake: '10%',
      exits: { stopLoss: 0.05 },
    },
  ],
  runtime: { barSeconds: 1, warmupBars: 2, pollMs: 100, staleAfterSeconds: 60, heartbeatSeconds: 1 },
});

/** Market order of the deployment's engine (the path a strategy's order takes). */
function trade(dep: DeploymentRuntime, side: 'buy' | 'sell', quantity: number): void {
  const o = dep.engine.submitIntent({ strategyId: dep.id, symbol: 'BTC/USDT', side, type: 'market', quantity });
  expect(o).not.toBeNull();
}

/** The one untriggered stop at the venue, once it holds `qty`. */
async function venueStop(dep: DeploymentRuntime, qty: number) {
  await waitFor(`one stop for ${qty} at the venue`, () => {
    const open = bed.sim.futures.algo.open(SYM);
    return open.length === 1 && Math.abs(open[0].quantity - qty) < 1e-9;
  });
  await dep.bridge.drain();
  const open = bed.sim.futures.algo.open(SYM);
  expect(open).toHaveLength(1);
  expect(open[0]).toMatchObject({ orderType: 'STOP_MARKET', side: 'BUY', reduceOnly: true });
  return open[0];
}

describe('a short on a futures venue across restarts', () => {
  it('keeps one reduce-only BUY stop over the short, and books the stop that fired while down', async () => {
    bed.sim.futures.setPrice(SYM, 30_000);
    let { runtime } = await bed.start(config());
    let dep = runtime.deployments[0];
    await waitFor('a live price', () => dep.engine.portfolio.last[0] > 0);
    trade(dep, 'sell', 0.02);
    await waitFor('the short booked', () => Math.abs(dep.engine.portfolio.qty[0] + 0.02) < 1e-9);
    const first = await venueStop(dep, 0.02);
    const avg = dep.engine.portfolio.avg[0];
    expect(first.triggerPrice).toBeGreaterThanOrEqual(avg * 1.05 - 1e-9);
    expect(first.triggerPrice).toBeLessThan(avg * 1.05 + 0.01);

    // Restart: the stop is found again by its client id and tracked; nothing new is placed.
    await bed.stop();
    ({ runtime } = await bed.start(config()));
    dep = runtime.deployments[0];
    expect(dep.engine.portfolio.qty[0]).toBeCloseTo(-0.02, 10);
    expect(dep.reconcile.stillOpen).toBe(1);
    await dep.bridge.drain();
    expect(bed.sim.futures.algo.open(SYM).map((a) => a.algoId)).toEqual([first.algoId]);
    expect(dep.bridge.protectiveStop('BTC/USDT')?.side).toBe('buy');
    expect(dep.stops?.placed).toBe(0);

    // An add after the restart: the adopted stop is replaced by one for the whole short.
    await waitFor('a live price', () => dep.engine.portfolio.last[0] > 0);
    trade(dep, 'sell', 0.01);
    await waitFor('the add booked', () => Math.abs(dep.engine.portfolio.qty[0] + 0.03) < 1e-9);
    const resized = await venueStop(dep, 0.03);
    expect(resized.algoId).not.toBe(first.algoId);
    expect(bed.sim.futures.algo.find(first.algoId)?.algoStatus).toBe('CANCELED');

    // Down, the price rises through the stop: the venue covers the short.
    await bed.stop();
    bed.sim.futures.setPrice(SYM, Math.ceil(resized.triggerPrice) + 50);
    expect(bed.sim.futures.account.position(SYM).qty).toBe(0);
    expect(bed.sim.futures.algo.find(resized.algoId)?.algoStatus).toBe('FINISHED');

    // Restart: the fill is booked once, the book is flat, and no stop is left or placed.
    ({ runtime } = await bed.start(config()));
    dep = runtime.deployments[0];
    expect(dep.engine.portfolio.qty[0]).toBeCloseTo(0, 10);
    expect(dep.reconcile.finished).toBe(1);
    expect(dep.reconcile.fillsApplied).toBe(1);
    expect(dep.engine.portfolio.trades.at(-1)).toMatchObject({ side: 'short', exitReason: 'stop_loss' });
    await dep.bridge.drain();
    expect(bed.sim.futures.algo.open(SYM)).toEqual([]);
    expect(dep.stops?.placed).toBe(0);
    const fills = await runtime.store.fills.list({ strategyId: 'perp-short' });
    expect(fills.filter((f) => f.side === 'buy')).toHaveLength(1);
  }, 240_000);

  it('recovers a short’s stop the journal lost as its protective stop: tracked, not placed twice', async () => {
    bed.sim.futures.setPrice(SYM, 30_000);
    let { runtime, home } = await bed.start(config('perp-lost'));
    let dep = runtime.deployments[0];
    await waitFor('a live price', () => dep.engine.portfolio.last[0] > 0);
    trade(dep, 'sell', 0.02);
    await waitFor('the short booked', () => Math.abs(dep.engine.portfolio.qty[0] + 0.02) < 1e-9);
    const stop = await venueStop(dep, 0.02);
    await bed.stop();

    // The power loss: this run's orders and fills never reached the disk.
    const store = await openStore({ home });
    try {
      await store.db.deleteFrom('fills').where('strategy_id', '=', 'perp-lost').execute();
      await store.db.deleteFrom('orders').where('strategy_id', '=', 'perp-lost').execute();
    } finally {
      await store.close();
    }

    ({ runtime } = await bed.start(config('perp-lost')));
    dep = runtime.deployments[0];
    const r = dep.reconcile;
    // The entry (filled) and the stop (resting) carry the deployment's client id prefix: both recovered.
    expect(r.recovered, r.mismatches.join('\n')).toBe(2);
    expect(r.unknownCancelled).toBe(0);
    expect(dep.engine.portfolio.qty[0]).toBeCloseTo(-0.02, 10);
    await dep.bridge.drain();
    expect(dep.bridge.protectiveStop('BTC/USDT')).toMatchObject({ side: 'buy', quantity: 0.02 });
    expect(bed.sim.futures.algo.open(SYM).map((a) => a.algoId)).toEqual([stop.algoId]);
    expect(dep.stops?.placed).toBe(0);

    // Closed by the engine: the recovered stop goes with the position.
    const cover = dep.engine.submitIntent({
      strategyId: dep.id,
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: 0.02,
      reduceOnly: true,
      source: 'exit',
    });
    expect(cover).not.toBeNull();
    await waitFor('flat', () => Math.abs(dep.engine.portfolio.qty[0]) < 1e-9);
    await waitFor('no stop left at the venue', () => bed.sim.futures.algo.open(SYM).length === 0);
    expect(bed.sim.futures.account.position(SYM).qty).toBe(0);
  }, 240_000);
});
