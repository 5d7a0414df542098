import { describe, expect, it } from 'vitest';
import type { RuntimeStatus } from '../src/app/live/runtime-types.js';
import { runCliAsync } from './fixtures/cli.js';
import { simBed, simDeployment } from './fixtures/runtime/sim-bed.js';
import { waitFor } from './fixtures/wait.js';

// `tradeforge status` with the runtime down rebuilds each deployment's book with the runtime's own replay
// (src/app/live/book.ts): the same cash, positions and realised P&L, to the exact decimal, as the runtime showed last.

const bed = simBed('status-offline', 21);

// What `status --json` prints, online and offline: the runtime's status type.
type StatusJson = RuntimeStatus;

// What the offline status promises to equal: the booked figures, not the marks (docs/live.md).
function booked(s: StatusJson) {
  return {
    deployments: s.deployments.map((d) => ({
      id: d.id,
      cash: d.cash,
      realizedPnl: d.realizedPnl,
      fundingPnl: d.fundingPnl,
      closedTrades: d.closedTrades,
      exact: d.exact,
    })),
    positions: s.positions.map((p) => ({
      deployment: p.deployment,
      symbol: p.symbol,
      quantity: p.quantity,
      averagePrice: p.averagePrice,
      exact: p.exact,
    })),
    recentFills: s.recentFills,
  };
}

describe('offline status', () => {
  it('shows the book the runtime showed last: cash, exact positions and realised P&L (fees in the base asset, a partial close)', async () => {
    // Periods so long that the strategy never signals: the test places the orders itself.
    const { runtime, home } = await bed.start({
      deployments: [simDeployment('off')],
      runtime: { barSeconds: 1, warmupBars: 5, pollMs: 100, staleAfterSeconds: 60, heartbeatSeconds: 1 },
    });
    const dep = runtime.deployments[0];
    const engine = dep.engine;
    await waitFor('a live price', () => engine.portfolio.last[0] > 0 && dep.feed.liveBars > 0);
    // A buy whose fee the simulator takes in BTC: the account is credited 0.00999.
    expect(
      engine.submitIntent({ strategyId: 'off', symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 0.01 }),
    ).not.toBeNull();
    await waitFor('the buy fill', () => engine.portfolio.qty[0] > 0);
    // A partial close: realised P&L on 0.005, a fee in USDT, 0.00499 left (0.0049900000000000005 in doubles).
    expect(
      engine.submitIntent({
        strategyId: 'off',
        symbol: 'BTC/USDT',
        side: 'sell',
        type: 'market',
        quantity: 0.005,
        reduceOnly: true,
      }),
    ).not.toBeNull();
    await waitFor('the partial exit', () => Math.abs(engine.portfolio.qty[0] - 0.00499) < 1e-9);
    await waitFor(
      'both fills stored',
      async () => (await runtime.store.fills.list({ strategyId: 'off' })).length === 2,
    );

    const up = await runCliAsync(['status', '--json'], { home: home.root });
    expect(up.code, up.err).toBe(0);
    const online = JSON.parse(up.out) as StatusJson;
    expect(online.source).toBe('runtime');
    expect(online.positions[0].exact?.quantity).toBe('0.00499');
    expect(online.deployments[0].realizedPnl).not.toBe(0);
    expect(Number(online.deployments[0].exact?.fees)).toBeGreaterThan(0);

    await bed.stop();
    const down = await runCliAsync(['status', '--json'], { home: home.root });
    expect(down.code, down.err).toBe(0);
    const offline = JSON.parse(down.out) as StatusJson;
    expect(offline.source).toBe('store');
    expect(booked(offline)).toEqual(booked(online));
    // Marked at the last fill price: the one figure that stays approximate offline.
    expect(offline.positions[0].last).toBe(online.recentFills.at(-1)?.price);

    // The text form prints the same realised P&L.
    const text = await runCliAsync(['status'], { home: home.root });
    expect(text.code, text.err).toBe(0);
    expect(text.out).toContain(`realised ${online.deployments[0].realizedPnl.toFixed(2)}`);
  }, 240_000);
});
