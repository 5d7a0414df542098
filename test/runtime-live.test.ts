import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import { shortHash } from '../src/venues/live/client-order-id.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

// The runtime end to end in this process against the exchange simulator: orders, fills, P&L, the ops endpoints,
// the CLI talking to it, the kill switch, and stale data blocking entries but not exits.
const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/tradeforge.js');

let sim: SimulatorHandle;
let dir: string;
let runtime: Runtime | undefined;
beforeAll(async () => {
  sim = await startSimulator({ seed: 3, tickIntervalMs: 50 });
  dir = mkdtempSync(join(tmpdir(), 'tf-runtime-live-'));
});

afterAll(async () => {
  await runtime?.stop('test end');
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

const until = async (what: string, cond: () => boolean, ms = 15_000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

// Async: the runtime under test lives in this process, so the CLI child must not block its event loop.
function cli(home: string, ...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const c = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, TRADEFORGE_HOME: home } });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    c.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    c.on('exit', (status) => done({ status, stdout, stderr }));
  });
}

function cliSync(home: string, ...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, TRADEFORGE_HOME: home },
    encoding: 'utf8',
    timeout: 180_000,
  });
}

describe('live runtime on the simulator', () => {
  it('trades through the bridge, keeps a protective stop, serves health/metrics/status, obeys the kill switch CLI', async () => {
    const home = resolveHome({}, join(dir, 'home'));
    // Periods so long that the strategy never signals: the test drives orders through the engine's order path.
    const config = resolveConfig({
      server: { port: 0 },
      venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
      deployments: [
        {
          id: 'rt',
          strategy: 'sma-cross',
          params: { fast: 100, slow: 200 },
          venue: 'sim',
          symbols: ['BTC/USDT'],
          stake: '40%',
          exits: { stopLoss: 0.02 },
        },
      ],
      runtime: { barSeconds: 1, warmupBars: 5, pollMs: 100, staleAfterSeconds: 1, heartbeatSeconds: 1 },
    });
    runtime = await startRuntime({ config, profile: 'dev', home, env: {} });
    const dep = runtime.deployments[0];
    const engine = dep.engine;
    await until('a live price', () => engine.portfolio.last[0] > 0 && dep.feed.liveBars > 0);

    // An entry through the one order path reaches the venue with our client id and fills.
    const buy = engine.submitIntent({
      strategyId: 'rt',
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: 0.01,
    });
    expect(buy).not.toBeNull();
    await until('the buy fill', () => engine.portfolio.qty[0] > 0);
    // Booked net of the fee the venue took in BTC: what the account was really credited.
    expect(engine.portfolio.qty[0]).toBeCloseTo(0.00999, 8);
    const cid = dep.bridge.clientOrderIdOf(buy!);
    expect(sim.state.orders.filter((o) => o.clientOrderId === cid)).toHaveLength(1);
    // The protective stop rests on the venue for the whole position.
    await until('the protective stop', () =>
      sim.state.orders.some((o) => o.type === 'STOP_LOSS' && o.status === 'NEW'),
    );
    const stop = sim.state.orders.find((o) => o.type === 'STOP_LOSS' && o.status === 'NEW')!;
    expect(stop.origQty).toBeCloseTo(0.00999, 8);
    expect(stop.stopPrice).toBeLessThan(engine.portfolio.avg[0]);

    // Ops endpoints and the status API.
    const health = (await (await fetch(`${runtime.url}/healthz`)).json()) as {
      positions: { open: number };
      killSwitchActive: boolean;
    };
    expect(health.positions.open).toBe(1);
    expect(health.killSwitchActive).toBe(false);
    const metrics = await (await fetch(`${runtime.url}/metrics`)).text();
    expect(metrics).toMatch(/tradeforge_orders_submitted_total [1-9]/);
    expect(metrics).toMatch(/tradeforge_fills_total\{side="buy"\} 1/);
    // The CLI finds the runtime through the run file and reads the same status.
    const st = await cli(home.root, 'status', '--json');
    expect(st.status, st.stderr).toBe(0);
    const status = JSON.parse(st.stdout);
    expect(status.source).toBe('runtime');
    expect(status.positions[0]).toMatchObject({ deployment: 'rt', symbol: 'BTC/USDT' });
    expect(status.positions[0].quantity).toBeCloseTo(0.00999, 8);
    expect(status.openOrders.some((o: { tag?: string }) => o.tag === 'protective_stop')).toBe(true);
    expect(status.recentFills.length).toBe(1);

    // An exit shrinks the position: the account holds other BTC, so the stop stays while the sell runs, then resizes.
    const exit = engine.submitIntent({
      strategyId: 'rt',
      symbol: 'BTC/USDT',
      side: 'sell',
      type: 'market',
      quantity: 0.005,
      reduceOnly: true,
    });
    expect(exit).not.toBeNull();
    await until('the partial exit', () => Math.abs(engine.portfolio.qty[0] - 0.00499) < 1e-9);
    await until('the resized stop', () =>
      sim.state.orders.some(
        (o) => o.type === 'STOP_LOSS' && o.status === 'NEW' && Math.abs(o.origQty - 0.00499) < 1e-9,
      ),
    );
    expect(sim.state.orders.filter((o) => o.type === 'STOP_LOSS' && o.status === 'NEW')).toHaveLength(1);

    // Kill switch through the CLI: cancels the stop, closes the position, halts new entries.
    const k = await cli(home.root, 'kill');
    expect(k.status, k.stderr).toBe(0);
    expect(k.stdout).toMatch(/kill switch engaged/);
    await until('flat after kill', () => engine.portfolio.qty[0] === 0);
    await until('stop cancelled', () => !sim.state.orders.some((o) => o.type === 'STOP_LOSS' && o.status === 'NEW'));
    expect(
      engine.submitIntent({ strategyId: 'rt', symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 0.01 }),
    ).toBeNull();
    expect(engine.riskEvents.at(-1)?.code).toBe('KILL_SWITCH');
    const health2 = await fetch(`${runtime.url}/healthz`);
    expect(health2.status).toBe(503);
    const r = await cli(home.root, 'recover');
    expect(r.status, r.stderr).toBe(0);
    expect(engine.haltCode).toBeNull();
    expect(engine.portfolio.trades.length).toBeGreaterThanOrEqual(1);

    await runtime.stop('test');
    runtime = undefined;
    // Down: status comes from the store.
    const down = JSON.parse((await cli(home.root, 'status', '--json')).stdout);
    expect(down.source).toBe('store');
    expect(down.positions).toEqual([]);
    expect(down.recentFills.length).toBe(3);
    expect(down.heartbeat.lastAt).toBeGreaterThan(0);
  }, 240_000);

  it('refuses live without --confirm-live and for an unapproved strategy', () => {
    const home = join(dir, 'live-home');
    const cfg = join(dir, 'live.json');
    writeFileSync(
      cfg,
      JSON.stringify({
        server: { port: 0 },
        venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
        deployments: [{ id: 'x', strategy: 'sma-cross', venue: 'sim', symbols: ['BTC/USDT'] }],
      }),
    );
    const a = cliSync(home, 'start', '--config', cfg, '--profile', 'live');
    expect(a.status).toBe(2);
    expect(a.stderr).toMatch(/--confirm-live/);
    const b = cliSync(home, 'start', '--config', cfg, '--profile', 'live', '--confirm-live');
    expect(b.status).toBe(2);
    expect(b.stderr).toMatch(/strategy "sma-cross" is not approved for live trading/);
    expect(b.stderr).not.toMatch(/at .*\.ts/); // one line, no stack
    // Nothing reached the venue.
    expect(sim.state.orders.filter((o) => o.clientOrderId.startsWith(`${shortHash('x')}-`))).toHaveLength(0);
  }, 300_000);
});
