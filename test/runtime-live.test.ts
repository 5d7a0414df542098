import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decimalText } from '../src/core/money.js';
import { shortHash } from '../src/venues/live/client-order-id.js';
import { runCli, runCliAsync } from './fixtures/cli.js';
import { simBed, simDeployment } from './fixtures/runtime/sim-bed.js';
import { waitFor } from './fixtures/wait.js';

// The runtime end to end in this process against the exchange simulator: orders, fills, P&L, the ops endpoints,
// the CLI talking to it, the kill switch, and stale data blocking entries but not exits.

const bed = simBed('runtime-live', 3);

describe('live runtime on the simulator', () => {
  it('trades through the bridge, keeps a protective stop, serves health/metrics/status, obeys the kill switch CLI', async () => {
    // Periods so long that the strategy never signals: the test drives orders through the engine's order path.
    const { runtime, home } = await bed.start({
      deployments: [simDeployment('rt', { stake: '40%', exits: { stopLoss: 0.02 } })],
      runtime: { barSeconds: 1, warmupBars: 5, pollMs: 100, staleAfterSeconds: 1, heartbeatSeconds: 1 },
    });
    const { sim } = bed;
    const dep = runtime.deployments[0];
    const engine = dep.engine;
    await waitFor('a live price', () => engine.portfolio.last[0] > 0 && dep.feed.liveBars > 0);

    // An entry through the one order path reaches the venue with our client id and fills.
    const buy = engine.submitIntent({
      strategyId: 'rt',
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: 0.01,
    });
    expect(buy).not.toBeNull();
    await waitFor('the buy fill', () => engine.portfolio.qty[0] > 0);
    // Booked net of the fee the venue took in BTC: what the account was really credited.
    expect(engine.portfolio.qty[0]).toBeCloseTo(0.00999, 8);
    const cid = dep.bridge.clientOrderIdOf(buy!);
    expect(sim.state.orders.filter((o) => o.clientOrderId === cid)).toHaveLength(1);
    // The protective stop rests on the venue for the whole position.
    await waitFor('the protective stop', () =>
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
    const st = await runCliAsync(['status', '--json'], { home: home.root });
    expect(st.code, st.err).toBe(0);
    const status = JSON.parse(st.out);
    expect(status.source).toBe('runtime');
    expect(status.positions[0]).toMatchObject({ deployment: 'rt', symbol: 'BTC/USDT' });
    expect(status.positions[0].quantity).toBeCloseTo(0.00999, 8);
    expect(status.openOrders.some((o: { tag?: string }) => o.tag === 'protective_stop')).toBe(true);
    expect(status.recentFills.length).toBe(1);
    // The exact decimals beside the numbers (docs/money.md): the credited 0.00999 with no float residue.
    expect(status.positions[0].exact).toEqual({ quantity: '0.00999', averagePrice: expect.any(String) });
    expect(Number(status.positions[0].exact.averagePrice)).toBe(status.positions[0].averagePrice);
    expect(status.recentFills[0].exact.quantity).toBe('0.00999');
    expect(Number(status.deployments[0].exact.cash)).toBe(status.deployments[0].cash);
    const stopOrder = status.openOrders.find((o: { tag?: string }) => o.tag === 'protective_stop');
    expect(stopOrder.exact.quantity).toBe('0.00999');
    // GET /api/positions serves the control port's positions.
    const [held] = await runtime.control.positions();
    expect(held.exact?.quantity).toBe('0.00999');
    expect(Number(held.exact?.entryPrice)).toBe(held.entryPrice);

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
    await waitFor('the partial exit', () => Math.abs(engine.portfolio.qty[0] - 0.00499) < 1e-9);
    await waitFor('the resized stop', () =>
      sim.state.orders.some(
        (o) => o.type === 'STOP_LOSS' && o.status === 'NEW' && Math.abs(o.origQty - 0.00499) < 1e-9,
      ),
    );
    expect(sim.state.orders.filter((o) => o.type === 'STOP_LOSS' && o.status === 'NEW')).toHaveLength(1);
    // The store's position row is the exact ledger's text (0.00999 − 0.005 is 0.0049900000000000005 in doubles).
    await waitFor('the stored position after the exit', async () => {
      const p = await runtime.store.positions.get('BTC/USDT', 'rt');
      return p?.exact?.quantity === '0.00499';
    });
    const book = engine.portfolio.exact!;
    expect(
      await runtime.store.db
        .selectFrom('positions')
        .select(['quantity', 'average_price', 'realized_pnl', 'fees'])
        .where('strategy_id', '=', 'rt')
        .executeTakeFirstOrThrow(),
    ).toEqual({
      quantity: '0.00499',
      average_price: decimalText(book.avg[0]),
      realized_pnl: decimalText(book.realizedBySymbol[0]),
      fees: decimalText(book.feesBySymbol[0]),
    });

    // Kill switch through the CLI: cancels the stop, closes the position, halts new entries.
    const k = await runCliAsync(['kill'], { home: home.root });
    expect(k.code, k.err).toBe(0);
    expect(k.out).toMatch(/kill switch engaged/);
    await waitFor('flat after kill', () => engine.portfolio.qty[0] === 0);
    await waitFor('stop cancelled', () => !sim.state.orders.some((o) => o.type === 'STOP_LOSS' && o.status === 'NEW'));
    expect(
      engine.submitIntent({ strategyId: 'rt', symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 0.01 }),
    ).toBeNull();
    expect(engine.riskEvents.at(-1)?.code).toBe('KILL_SWITCH');
    const health2 = await fetch(`${runtime.url}/healthz`);
    expect(health2.status).toBe(503);
    const r = await runCliAsync(['recover'], { home: home.root });
    expect(r.code, r.err).toBe(0);
    expect(engine.haltCode).toBeNull();
    expect(engine.portfolio.trades.length).toBeGreaterThanOrEqual(1);

    await bed.stop();
    // Down: status comes from the store.
    const down = JSON.parse((await runCliAsync(['status', '--json'], { home: home.root })).out);
    expect(down.source).toBe('store');
    expect(down.positions).toEqual([]);
    expect(down.recentFills.length).toBe(3);
    expect(down.heartbeat.lastAt).toBeGreaterThan(0);
  }, 240_000);

  it('refuses live without --confirm-live and for an unapproved strategy', () => {
    const { sim, dir } = bed;
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
    const a = runCli(['start', '--config', cfg, '--profile', 'live'], { home });
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/--confirm-live/);
    const b = runCli(['start', '--config', cfg, '--profile', 'live', '--confirm-live'], { home });
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/strategy "sma-cross" is not approved for live trading/);
    expect(b.err).not.toMatch(/at .*\.ts/); // one line, no stack
    // Nothing reached the venue.
    expect(sim.state.orders.filter((o) => o.clientOrderId.startsWith(`${shortHash('x')}-`))).toHaveLength(0);
  }, 300_000);
});
