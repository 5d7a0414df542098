import { describe, expect, it } from 'vitest';
import { simBed, simDeployment } from './fixtures/runtime/sim-bed.js';
import { waitFor } from './fixtures/wait.js';

// Done-when of issue 9: two deployments on one venue share one account-level risk engine. The account's daily loss
// trips across both (neither trips it alone), their client order ids never collide, and each keeps its own equity
// series. The market does not move (volatility 0), so every loss is exactly the fees charged.
const bed = simBed('runtime-account', {
  seed: 1,
  tickIntervalMs: 50,
  markets: [
    {
      symbol: 'BTCUSDT',
      base: 'BTC',
      quote: 'USDT',
      price: 30_000,
      tickSize: 0.01,
      stepSize: 0.00001,
      minQty: 0.00001,
      minNotional: 5,
      volatility: 0,
    },
  ],
});

describe('two deployments on one venue', () => {
  it('one account: the daily loss trips across both, ids never collide, each has its own equity', async () => {
    // sma-cross(100, 200) never signals: the test drives the order path.
    const deployment = (id: string) => simDeployment(id, { capitalCap: 10_000, stake: '40%' });
    const { runtime } = await bed.start({
      // A round trip of 0.1 BTC at 30 000 pays 6 USDT of fees: 0.03% of the 20 000 account, 0.06% of one book.
      risk: { breakers: { dailyLoss: 0.0004 } },
      // Ids that share their first ten characters (they used to send identical client order ids).
      deployments: [deployment('deployment-1'), deployment('deployment-2')],
      runtime: { barSeconds: 1, warmupBars: 3, pollMs: 100, staleAfterSeconds: 30, heartbeatSeconds: 5 },
    });
    const [a, b] = runtime.deployments;
    await waitFor('live prices', () => a.engine.portfolio.last[0] > 0 && b.engine.portfolio.last[0] > 0);

    const roundTrip = async (d: typeof a) => {
      const fillsBefore = d.engine.fills;
      const side = (s: 'buy' | 'sell') =>
        d.engine.submitIntent({
          strategyId: d.id,
          symbol: 'BTC/USDT',
          side: s,
          type: 'market',
          quantity: 0.1,
          ...(s === 'sell' ? { reduceOnly: true } : {}),
        });
      // A market order may take two levels of the book (two executions): each leg waits for its whole order.
      const buy = side('buy');
      expect(buy).not.toBeNull();
      await waitFor(`${d.id} bought`, () => buy!.status === 'filled' && d.engine.fills > fillsBefore);
      const sell = side('sell');
      expect(sell).not.toBeNull();
      await waitFor(`${d.id} sold`, () => sell!.status === 'filled' && d.engine.portfolio.qty[0] === 0);
    };

    await roundTrip(a);
    // 6 USDT of fees is 0.06% of a's own book but 0.03% of the account: no halt.
    expect(runtime.deployments[0].risk.status()).toEqual([]);
    await roundTrip(b);
    // Together 0.06% of the account: the one account-level breaker trips, for both.
    await waitFor('the account daily-loss halt', () =>
      runtime!.deployments[0].risk.status().some((s) => s.breaker === 'BREAKER_DAILY_LOSS'),
    );
    for (const d of [a, b]) {
      const rejected = d.engine.riskEvents.length;
      const order = d.engine.submitIntent({
        strategyId: d.id,
        symbol: 'BTC/USDT',
        side: 'buy',
        type: 'market',
        quantity: 0.01,
      });
      expect(order).toBeNull();
      expect(d.engine.riskEvents.slice(rejected).map((e) => e.code)).toEqual(['BREAKER_DAILY_LOSS']);
    }

    // Client order ids: unique across both deployments, and each venue order belongs to exactly one deployment.
    const ids = bed.sim.state.orders.map((o) => o.clientOrderId);
    expect(ids.length).toBe(4);
    expect(new Set(ids).size).toBe(ids.length);
    const stored = await Promise.all([a, b].map((d) => runtime!.store.orders.list({ strategyId: d.id })));
    expect(stored.map((list) => list.length)).toEqual([2, 2]);
    expect(new Set(stored.flat().map((o) => o.clientOrderId))).toEqual(new Set(ids));
    // Each deployment booked the venue's executions of its own orders, and only those.
    stored.forEach((list, k) => {
      const own = new Set(list.map((o) => o.clientOrderId));
      const executions = bed.sim.state.trades.filter((t) => own.has(t.clientOrderId)).length;
      expect(executions).toBeGreaterThanOrEqual(2);
      expect([a, b][k].engine.fills).toBe(executions);
    });
    expect(a.engine.fills + b.engine.fills).toBe(bed.sim.state.trades.length);

    // Each deployment has its own equity and drawdown series; the account is their sum.
    const status = await runtime.status();
    const eq = Object.fromEntries(status.deployments.map((d) => [d.id, d.equity]));
    // Each book lost its own round trip's costs (fees, about 6 USDT, and the spread), nothing of the other's.
    for (const d of [a, b]) {
      expect(eq[d.id]).toBeCloseTo(d.engine.portfolio.equity(), 6);
      expect(eq[d.id]).toBeLessThan(10_000 - 5.9);
      expect(eq[d.id]).toBeGreaterThan(10_000 - 8);
    }
    expect(status.account.equity).toBeCloseTo(eq['deployment-1'] + eq['deployment-2'], 6);
    // The gauges follow each book's equity updates (one per closed bar): wait for the bar after the last fill.
    const gauge = async (id: string) => {
      const text = await (await fetch(`${runtime!.url}/metrics`)).text();
      return Number(new RegExp(`tradeforge_deployment_equity\\{deployment="${id}"\\} ([\\d.]+)`).exec(text)?.[1]);
    };
    for (const id of ['deployment-1', 'deployment-2']) {
      const deadline = Date.now() + 60_000;
      while (Math.abs((await gauge(id)) - eq[id]) > 0.5 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(await gauge(id)).toBeCloseTo(eq[id], 0);
    }
    expect(status.breakers[0].active.map((x) => x.breaker)).toContain('BREAKER_DAILY_LOSS');
  }, 180_000);
});
