import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { waitFor } from './fixtures/wait.js';

// Two deployments in one runtime: a strategy file stuck in an endless loop, and one that trades. The sandbox
// worker stops the first (reported, alerted, no order) and the runtime and the second deployment carry on.
let sim: SimulatorHandle;
let dir: string;
let runtime: Runtime | undefined;
beforeAll(async () => {
  sim = await startSimulator({ seed: 7, tickIntervalMs: 50 });
  dir = mkdtempSync(join(tmpdir(), 'tf-sandbox-deploy-'));
});
afterAll(async () => {
  await runtime?.stop('test end');
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a stuck strategy in one deployment', { timeout: 180_000 }, () => {
  it('is stopped by its sandbox (strategy stopped, no order); the other deployment keeps trading', async () => {
    const spinner = join(dir, 'spinner.ts');
    writeFileSync(
      spinner,
      `import { defineStrategy, type StrategyContext } from 'tradeforge/sdk';
export default defineStrategy({
  name: 'spinner',
  description: 'never returns from its third bar',
  params: [],
  create() {
    let bars = 0;
    return {
      onBar(ctx: StrategyContext) {
        bars++;
        if (bars >= 3) {
          let n = 0;
          while (n >= 0) n++;
        }
        if (ctx.position() === 0 && bars > 1000) ctx.buy();
      },
    };
  },
});
`,
    );
    const buyer = join(dir, 'buyer.ts');
    writeFileSync(
      buyer,
      `import { defineStrategy, type StrategyContext } from 'tradeforge/sdk';
export default defineStrategy({
  name: 'buyer',
  description: 'buys a fixed quantity when flat',
  params: [],
  create() {
    return {
      onBar(ctx: StrategyContext) {
        if (ctx.position() !== 0 || ctx.openOrders().length > 0) return;
        ctx.buy({ quantity: 0.01 });
      },
    };
  },
});
`,
    );
    const config = resolveConfig({
      server: { port: 0 },
      venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
      deployments: [
        { id: 'stuck', strategy: spinner, venue: 'sim', symbols: ['BTC/USDT'], stake: '10%' },
        { id: 'fine', strategy: buyer, venue: 'sim', symbols: ['BTC/USDT'], stake: '10%' },
      ],
      runtime: { barSeconds: 1, warmupBars: 0, pollMs: 100, staleAfterSeconds: 30, heartbeatSeconds: 1 },
    });
    runtime = await startRuntime({ config, profile: 'dev', home: resolveHome({}, join(dir, 'home')), env: {} });
    const [stuck, fine] = runtime.deployments.map((d) => d.engine);
    await waitFor('the stuck strategy to be stopped', () => stuck.strategyFailures.length > 0);
    expect(stuck.strategyFailures[0].hook).toBe('onBar');
    expect(stuck.strategyFailures[0].message).toMatch(
      /spinner\.ts: strategy spinner ran past its CPU budget of 1000 ms in onBar at bar \d+ .*the sandbox stopped it/,
    );
    expect(stuck.strategyStopped).toBe(true);
    // The other deployment trades on.
    await waitFor('the other deployment to buy', () => fine.portfolio.qty[0] > 0);
    expect(fine.strategyFailures).toEqual([]);
    expect(stuck.portfolio.qty[0]).toBe(0);
    expect(sim.state.orders.filter((o) => o.side === 'BUY')).toHaveLength(1);
  });
});
