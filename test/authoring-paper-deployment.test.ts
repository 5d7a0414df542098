import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { waitFor } from './fixtures/wait.js';

// A user strategy file from a temp folder, gated and sandboxed, trading in a paper deployment on the simulator.
let sim: SimulatorHandle;
let dir: string;
let runtime: Runtime | undefined;
beforeAll(async () => {
  sim = await startSimulator({ seed: 5, tickIntervalMs: 50 });
  dir = mkdtempSync(join(tmpdir(), 'tf-authoring-paper-'));
});
afterAll(async () => {
  await runtime?.stop('test end');
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a strategy file in a paper deployment', { timeout: 120_000 }, () => {
  it('is resolved from its path, runs in the sandbox and places its order through the runtime', async () => {
    const file = join(dir, 'buy-once.ts');
    writeFileSync(
      file,
      `import { defineStrategy, type StrategyContext } from 'tradeforge/sdk';
export default defineStrategy({
  name: 'buy-once',
  description: 'buys a fixed quantity when flat',
  params: [{ name: 'qty', type: 'float', default: 0.01, min: 0.001, max: 1, description: 'quantity' }],
  create(p) {
    return {
      onBar(ctx: StrategyContext) {
        // Warm-up bars reach onBar with orders held back, so the strategy asks again on each bar until it holds.
        if (ctx.position() !== 0 || ctx.openOrders().length > 0) return;
        ctx.log('buying ' + String(p.qty) + ' ' + ctx.symbol + ' at ' + String(ctx.bar.close));
        ctx.buy({ quantity: p.qty as number });
      },
    };
  },
});
`,
    );
    const home = resolveHome({}, join(dir, 'home'));
    const config = resolveConfig({
      server: { port: 0 },
      venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
      deployments: [
        { id: 'mine', strategy: file, params: { qty: 0.02 }, venue: 'sim', symbols: ['BTC/USDT'], stake: '40%' },
      ],
      runtime: { barSeconds: 1, warmupBars: 2, pollMs: 100, staleAfterSeconds: 5, heartbeatSeconds: 1 },
    });
    runtime = await startRuntime({ config, profile: 'dev', home, env: {} });
    const engine = runtime.deployments[0].engine;
    await waitFor(
      'the strategy file’s buy to fill',
      () => engine.portfolio.qty[0] > 0 || engine.strategyFailures.length > 0,
    );
    expect(engine.strategyFailures).toEqual([]);
    // Booked net of the fee the venue keeps in the base asset (0.1% of the bought BTC).
    expect(engine.portfolio.qty[0]).toBeCloseTo(0.02 * (1 - 0.001), 8);
    expect(sim.state.orders.filter((o) => o.side === 'BUY')).toHaveLength(1);
  });

  it('refuses a deployment whose strategy file the gate rejects, before anything starts', async () => {
    const bad = join(dir, 'bad.ts');
    writeFileSync(bad, "import fs from 'node:fs';\nexport default {};\n");
    const config = resolveConfig({
      venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
      deployments: [{ id: 'bad', strategy: bad, venue: 'sim', symbols: ['BTC/USDT'] }],
    });
    await expect(
      startRuntime({ config, profile: 'dev', home: resolveHome({}, join(dir, 'home2')), env: {} }),
    ).rejects.toThrow(/bad\.ts:1:1 import-not-sdk/);
  });
});
