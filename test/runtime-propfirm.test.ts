import { describe, expect, it } from 'vitest';
import { waitFor } from './fixtures/wait.js';
import { simBed, simDeployment } from './fixtures/runtime/sim-bed.js';

// risk.propFirm in a live runtime: the account's risk engine builds the rule, its status reaches /api/status,
// and a breached account refuses new entries.
const bed = simBed('runtime-propfirm', 5);

describe('prop-firm rules in the live runtime', () => {
  it('reports the standing in status and refuses entries once the maximum loss is breached', {
    timeout: 120_000,
  }, async () => {
    const { runtime } = await bed.start({
      risk: {
        // An account "started" far above today's equity: its maximum-loss floor is already breached.
        propFirm: {
          rules: 'custom',
          custom: {
            initialBalance: 1_000_000_000,
            dayBoundary: { timeZone: 'Europe/Prague', time: '00:00' },
            maxLoss: { amount: 1_000 },
          },
        },
      },
      deployments: [simDeployment('pf', { stake: '40%' })],
      runtime: { barSeconds: 1, warmupBars: 5, pollMs: 100, staleAfterSeconds: 5, heartbeatSeconds: 1 },
    });
    const dep = runtime.deployments[0];
    await waitFor('a live price', () => dep.engine.portfolio.last[0] > 0 && dep.feed.liveBars > 0);
    const status = await runtime.status();
    expect(status.propFirm?.ruleSet).toBe('custom');
    expect(status.propFirm?.limits).toEqual([expect.objectContaining({ limit: 'maxLoss', floor: 999_999_000 })]);
    expect(status.propFirm?.state).toBe('breached');
    expect(status.propFirm?.equity).toBeCloseTo(status.account.equity, 6);
    // The breach refuses new exposure with the prop-firm code.
    const order = dep.engine.submitIntent({
      strategyId: 'pf',
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: 0.01,
    });
    expect(order).toBeNull();
    expect((await runtime.status()).risk[0].byCode.PROPFIRM_MAX_LOSS).toBeGreaterThanOrEqual(1);
  });
});
