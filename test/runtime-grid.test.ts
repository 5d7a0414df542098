import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import type { DomainEvent } from '../src/core/events.js';
import { openStore } from '../src/store/index.js';
import type { GridCycle, GridOrder } from '../src/strategy/builtins/grid.js';
import { shortHash } from '../src/venues/live/client-order-id.js';
import { type SimOrder, type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { runCliAsync } from './fixtures/cli.js';
import { exited, killAll, startRuntimeProcess } from './fixtures/runtime/process.js';
import { WAIT_GUARD_MS, waitFor } from './fixtures/wait.js';

// Issue 17 items 3 and 4 on the exchange simulator: the grid's limit orders rest on the venue, each fill is answered
// by its counter-order, a kill -9 and restart leave the venue's orders equal to the grid's state (none doubled, none
// lost) and the cycle profit goes on; pause/resume from the CLI; a stop-loss below the grid cancels every resting
// order, sells the inventory and stops the grid with an alert. The market does not move by itself (volatility 0):
// the test drives every price, and waits for what the runtime does in answer.

let sim: SimulatorHandle;
let dir: string;
const children: ChildProcess[] = [];
let runtime: Runtime | undefined;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 17,
    tickIntervalMs: 50,
    markets: [
      {
        symbol: 'BTCUSDT',
        base: 'BTC',
        quote: 'USDT',
        price: 30_250,
        tickSize: 0.01,
        stepSize: 0.00001,
        minQty: 0.00001,
        minNotional: 5,
        volatility: 0,
      },
      {
        symbol: 'ETHUSDT',
        base: 'ETH',
        quote: 'USDT',
        price: 2_020,
        tickSize: 0.01,
        stepSize: 0.0001,
        minQty: 0.0001,
        minNotional: 5,
        volatility: 0,
      },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'tf-runtime-grid-'));
});

afterAll(async () => {
  await runtime?.stop('test end');
  killAll(children);
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

const isOpen = (o: SimOrder) => o.status === 'NEW' || o.status === 'PARTIALLY_FILLED';

describe('grid on the exchange simulator', () => {
  it(
    'rests on the venue, answers fills, survives kill -9 with its orders equal to its state, pauses and resumes from the CLI',
    async () => {
      const PREFIX = `${shortHash('g1')}-`;
      const ours = () => sim.state.orders.filter((o) => o.symbol === 'BTCUSDT' && o.clientOrderId.startsWith(PREFIX));
      const open = () => ours().filter(isOpen);
      // Level prices of the open orders, "side@price", sorted: what the venue holds for the grid.
      const book = () =>
        open()
          .map((o) => `${o.side}@${o.price}`)
          .sort();
      const home = join(dir, 'home-g1');
      const cfg = join(dir, 'g1.json');
      writeFileSync(
        cfg,
        JSON.stringify({
          profile: 'dev',
          server: { port: 0 },
          venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
          deployments: [
            {
              id: 'g1',
              strategy: 'grid',
              // Levels 29 000, 29 500, 30 000, 30 500, 31 000; 0.001 BTC per level.
              params: { lower: 29_000, upper: 31_000, levels: 5, quantity: 0.001 },
              venue: 'sim',
              symbols: ['BTC/USDT'],
              capitalCap: 1_000,
            },
          ],
          risk: { orderRate: { perMinute: 120, perSecond: 20 } },
          runtime: { barSeconds: 0.5, warmupBars: 5, pollMs: 150, staleAfterSeconds: 30, heartbeatSeconds: 2 },
        }),
      );

      // First life: the grid's buys rest below the price (30 250).
      const first = startRuntimeProcess(cfg, home, children);
      await waitFor('the grid resting on the venue', () => book().length === 3, { log: first.out });
      expect(book()).toEqual(['BUY@29000', 'BUY@29500', 'BUY@30000']);
      // Down through 30 000: the buy fills and its sell rests one level up.
      sim.setPrice('BTCUSDT', 29_900);
      await waitFor('the counter sell @ 30 500', () => book().includes('SELL@30500'), { log: first.out });
      // Up through 30 500: a cycle; its buy rests again at 30 000.
      sim.setPrice('BTCUSDT', 30_600);
      await waitFor('the counter buy @ 30 000', () => book().includes('BUY@30000'), { log: first.out });
      expect(book()).toEqual(['BUY@29000', 'BUY@29500', 'BUY@30000']);
      sim.setPrice('BTCUSDT', 29_900);
      await waitFor('the second counter sell', () => book().includes('SELL@30500'), { log: first.out });
      first.child.kill('SIGKILL');
      await exited(first.child);

      // While it is down: the sell fills (a cycle missed), someone cancels the 29 000 buy on the venue, and an order
      // with this deployment's client-id prefix that the grid never placed appears.
      sim.setPrice('BTCUSDT', 30_600);
      const lost = open().find((o) => o.price === 29_000) as SimOrder;
      sim.state.cancelOrder('BTCUSDT', lost.orderId);
      sim.state.placeOrder(
        { symbol: 'BTCUSDT', side: 'BUY', type: 'LIMIT', quantity: 0.001, price: 29_100, timeInForce: 'GTC' },
        `${PREFIX}zz-stray1`,
      );

      const second = startRuntimeProcess(cfg, home, children);
      await waitFor('the restarted deployment', () => /strategy orders: \d+ kept/.test(second.out()), {
        log: second.out,
      });
      const m = /strategy orders: (\d+) kept, (\d+) placed again, (\d+) unknown cancelled/.exec(second.out());
      expect(m, second.out()).not.toBeNull();
      expect(Number(m?.[2])).toBe(1); // the cancelled 29 000 buy
      expect(Number(m?.[3])).toBe(1); // the stray order
      // The venue equals the grid: one buy per level below the price, none doubled, none lost, the stray gone.
      await waitFor('the grid back on the venue', () => book().length === 3 && !book().includes('BUY@29100'));
      expect(book()).toEqual(['BUY@29000', 'BUY@29500', 'BUY@30000']);

      // Pause from the CLI: every resting order cancelled; resume: put back, now at every empty level below the price
      // (30 600, where the missed cycle left it): 30 500 too.
      const paused = await runCliAsync(['pause', 'g1'], { home });
      expect(paused.out + paused.err).toMatch(/paused g1/);
      expect(paused.code).toBe(0);
      await waitFor('the grid cancelled', () => book().length === 0, { log: second.out });
      const resumed = await runCliAsync(['resume', 'g1'], { home });
      expect(resumed.out + resumed.err).toMatch(/resumed g1/);
      await waitFor('the grid placed again', () => book().length === 4, { log: second.out });
      expect(book()).toEqual(['BUY@29000', 'BUY@29500', 'BUY@30000', 'BUY@30500']);

      // One more cycle after the restart (30 500 -> 31 000): the cycle profit goes on from where it stopped.
      sim.setPrice('BTCUSDT', 30_450);
      await waitFor('a counter sell after the restart', () => book().includes('SELL@31000'), { log: second.out });
      sim.setPrice('BTCUSDT', 31_100);
      await waitFor('the buy after the third cycle', () => book().includes('BUY@30500'), { log: second.out });
      second.child.kill('SIGTERM');
      expect(await exited(second.child)).toBe(0);

      const store = await openStore({ home });
      try {
        const saved = (await store.strategyState.load('g1', 'g1'))?.state as {
          cycles: GridCycle[];
          orders: GridOrder[];
          paused: boolean;
        };
        // Two cycles 30 000 -> 30 500 (the second missed while down, booked at startup and answered), then one
        // 30 500 -> 31 000 after the restart.
        expect(saved.cycles.map((c) => [c.buyPrice, c.sellPrice])).toEqual([
          [30_000, 30_500],
          [30_000, 30_500],
          [30_500, 31_000],
        ]);
        // Hand calculation: 0.001 bought, its 0.1 % fee taken in BTC; 0.00099 booked (whole lots), the 0.00001 BTC
        // short of it counted as fee at the buy price; the sell of 0.00099 pays 0.1 % of its value in USDT.
        const profit = (buy: number, sell: number) => (sell - buy) * 0.00099 - 0.00001 * buy - 0.00099 * sell * 0.001;
        expect(profit(30_000, 30_500)).toBeCloseTo(0.164805, 10);
        saved.cycles.forEach((c) => {
          expect(c.quantity).toBeCloseTo(0.00099, 10);
          expect(c.profit).toBeCloseTo(profit(c.buyPrice, c.sellPrice), 8);
        });
        // Its state names exactly the orders resting on the venue.
        expect(saved.paused).toBe(false);
        expect(
          saved.orders
            .map((o) => `${o.side.toUpperCase()}@${[29_000, 29_500, 30_000, 30_500, 31_000][o.level]}`)
            .sort(),
        ).toEqual(book());
      } finally {
        await store.close();
      }
      const log = readFileSync(join(home, 'logs', 'tradeforge.log'), 'utf8');
      expect(log).toMatch(/Strategy order placed again/);
      expect(log).toMatch(/Order the strategy does not keep cancelled/);
    },
    4 * WAIT_GUARD_MS,
  );

  it(
    'stop-loss below the grid: every resting order cancelled, the inventory sold, the grid stopped with an alert',
    async () => {
      const home = resolveHome({}, join(dir, 'home-g2'));
      const config = resolveConfig({
        server: { port: 0 },
        venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
        deployments: [
          {
            id: 'g2',
            strategy: 'grid',
            // Levels 1 900, 1 950, 2 000, 2 050, 2 100; 0.01 ETH per level; stop-loss 1 800.
            params: { lower: 1_900, upper: 2_100, levels: 5, quantity: 0.01, stopLoss: 1_800 },
            venue: 'sim',
            symbols: ['ETH/USDT'],
            capitalCap: 1_000,
          },
        ],
        risk: { orderRate: { perMinute: 120, perSecond: 20 } },
        runtime: { barSeconds: 0.5, warmupBars: 5, pollMs: 150, staleAfterSeconds: 30, heartbeatSeconds: 2 },
      });
      runtime = await startRuntime({ config, profile: 'dev', home, env: {} });
      const alerts: DomainEvent<'alert.raised.v1'>[] = [];
      runtime.bus.subscribe('alert.raised.v1', (e) => alerts.push(e));
      const dep = runtime.deployments[0];
      const PREFIX = `${shortHash('g2')}-`;
      const ours = () => sim.state.orders.filter((o) => o.symbol === 'ETHUSDT' && o.clientOrderId.startsWith(PREFIX));
      const book = () =>
        ours()
          .filter(isOpen)
          .map((o) => `${o.side}@${o.price}`)
          .sort();
      await waitFor('the grid resting on the venue', () => book().length === 3);
      expect(book()).toEqual(['BUY@1900', 'BUY@1950', 'BUY@2000']);
      sim.setPrice('ETHUSDT', 1_990);
      await waitFor('the sell @ 2050', () => book().includes('SELL@2050'));
      sim.setPrice('ETHUSDT', 1_940);
      await waitFor('the sell @ 2000', () => book().includes('SELL@2000'));
      expect(dep.engine.portfolio.qty[0]).toBeGreaterThan(0);
      // Below the stop-loss.
      sim.setPrice('ETHUSDT', 1_790);
      await waitFor('the grid stopped', () => alerts.some((a) => a.payload.title === 'Strategy g2 stopped'));
      const state = () =>
        JSON.stringify({
          qty: dep.engine.portfolio.qty[0],
          orders: ours().map((o) => [o.side, o.type, o.price, o.origQty, o.status]),
        });
      await waitFor('the inventory sold', () => Math.abs(dep.engine.portfolio.qty[0]) < 1e-9, { log: state });
      await waitFor('no grid order left on the venue', () => book().length === 0);
      const stop = alerts.find((a) => a.payload.title === 'Strategy g2 stopped');
      expect(stop?.payload.severity).toBe('critical');
      expect(stop?.payload.message).toMatch(/grid stop-loss: close 1790 at or below 1800/);
      // Sold at market: the last order of the grid's deployment is a market sell.
      const sells = ours().filter((o) => o.type === 'MARKET' && o.side === 'SELL');
      expect(sells).toHaveLength(1);
      expect(sells[0].status).toBe('FILLED');
      // Stopped: prices back in the grid place nothing.
      const before = ours().length;
      sim.setPrice('ETHUSDT', 2_020);
      const bars = dep.feed.liveBars;
      await waitFor('two more bars', () => dep.feed.liveBars >= bars + 2);
      expect(ours().length).toBe(before);
      await runtime.stop('stop-loss test done');
      runtime = undefined;
    },
    4 * WAIT_GUARD_MS,
  );

  it(
    'kill switch and breakers cancel the resting grid; after recovery it comes back only on an explicit resume',
    async () => {
      const home = resolveHome({}, join(dir, 'home-g3'));
      sim.setPrice('ETHUSDT', 2_020);
      const config = resolveConfig({
        server: { port: 0 },
        venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
        deployments: [
          {
            id: 'g3',
            strategy: 'grid',
            params: { lower: 1_900, upper: 2_100, levels: 5, quantity: 0.01 },
            venue: 'sim',
            symbols: ['ETH/USDT'],
            capitalCap: 1_000,
          },
        ],
        risk: { orderRate: { perMinute: 120, perSecond: 20 } },
        runtime: { barSeconds: 0.5, warmupBars: 5, pollMs: 150, staleAfterSeconds: 30, heartbeatSeconds: 2 },
      });
      runtime = await startRuntime({ config, profile: 'dev', home, env: {} });
      const rt = runtime;
      const dep = rt.deployments[0];
      const PREFIX = `${shortHash('g3')}-`;
      const book = () =>
        sim.state.orders
          .filter((o) => o.symbol === 'ETHUSDT' && o.clientOrderId.startsWith(PREFIX) && isOpen(o))
          .map((o) => `${o.side}@${o.price}`)
          .sort();
      const GRID = ['BUY@1900', 'BUY@1950', 'BUY@2000'];
      const twoBars = async () => {
        const n = dep.feed.liveBars;
        await waitFor('two more bars', () => dep.feed.liveBars >= n + 2);
      };
      await waitFor('the grid resting on the venue', () => book().length === 3);
      expect(book()).toEqual(GRID);

      // Kill switch: the grid's orders cancelled and the grid paused; recovery does not bring it back.
      expect((await rt.control.kill('test')).ok).toBe(true);
      await waitFor('the grid cancelled by the kill switch', () => book().length === 0);
      expect(dep.engine.strategyPaused).toBe(true);
      expect((await rt.control.resume?.('g3', 'test'))?.message).toMatch(/halted/);
      expect((await rt.control.recover('test')).ok).toBe(true);
      await twoBars();
      expect(book()).toEqual([]);
      const resumed = await rt.control.resume?.('g3', 'test');
      expect(resumed?.ok).toBe(true);
      await waitFor('the grid back after resume', () => book().length === 3);
      expect(book()).toEqual(GRID);

      // A breaker (the manual halt): the same.
      dep.risk.halt('test', 'breaker drill');
      await waitFor('the grid cancelled by the breaker', () => book().length === 0);
      expect(dep.engine.strategyPaused).toBe(true);
      expect((await rt.control.resetBreaker?.('HALTED', 'test'))?.ok).toBe(true);
      await twoBars();
      expect(book()).toEqual([]);
      expect((await rt.control.resume?.('g3', 'test'))?.ok).toBe(true);
      await waitFor('the grid back after the second resume', () => book().length === 3);
      expect(book()).toEqual(GRID);
    },
    4 * WAIT_GUARD_MS,
  );

  it(
    'on paper: the grid rests on the paper account and answers its fills with counter-orders',
    async () => {
      await runtime?.stop('next test');
      runtime = undefined;
      const home = resolveHome({}, join(dir, 'home-g4'));
      sim.setPrice('ETHUSDT', 2_020);
      const config = resolveConfig({
        server: { port: 0 },
        venues: [{ id: 'pap', type: 'paper', options: { url: sim.url, balances: { USDT: 10_000 } } }],
        deployments: [
          {
            id: 'g4',
            strategy: 'grid',
            params: { lower: 1_900, upper: 2_100, levels: 5, quantity: 0.01 },
            venue: 'pap',
            symbols: ['ETH/USDT'],
            capitalCap: 1_000,
          },
        ],
        risk: { orderRate: { perMinute: 120, perSecond: 20 } },
        runtime: { barSeconds: 0.5, warmupBars: 5, pollMs: 150, staleAfterSeconds: 30, heartbeatSeconds: 2 },
      });
      runtime = await startRuntime({ config, profile: 'dev', home, env: {} });
      const dep = runtime.deployments[0];
      let paperBook: string[] = [];
      const refresh = async () => {
        paperBook = (await dep.venue.resilient.fetchOpenOrders('ETH/USDT')).map((o) => `${o.side}@${o.price}`).sort();
        return paperBook;
      };
      await waitFor('the grid resting on the paper account', async () => (await refresh()).length === 3);
      expect(paperBook).toEqual(['buy@1900', 'buy@1950', 'buy@2000']);
      // Nothing of it reaches the simulator: paper orders live in the runtime.
      expect(sim.state.orders.some((o) => o.clientOrderId.startsWith(`${shortHash('g4')}-`))).toBe(false);
      sim.setPrice('ETHUSDT', 1_990);
      await waitFor('the paper counter sell @ 2050', async () => (await refresh()).includes('sell@2050'));
      sim.setPrice('ETHUSDT', 2_060);
      await waitFor('the paper counter buy @ 2000', async () => (await refresh()).includes('buy@2000'));
      expect(paperBook).toEqual(['buy@1900', 'buy@1950', 'buy@2000']);
      // One cycle; the paper account fills on bars, so a price that jumps past a level fills at the bar's open.
      const grid = dep.gate.inner as unknown as { cycles: GridCycle[] };
      expect(grid.cycles).toHaveLength(1);
      expect(grid.cycles[0].buyPrice).toBeLessThanOrEqual(2_000);
      expect(grid.cycles[0].sellPrice).toBeGreaterThanOrEqual(2_050);
    },
    4 * WAIT_GUARD_MS,
  );

  it('refuses to start a grid the venue cannot trade, with one line naming the parameter', async () => {
    await runtime?.stop('next test');
    runtime = undefined;
    const home = resolveHome({}, join(dir, 'home-g5'));
    const start = (params: Record<string, number>, capitalCap = 1_000) =>
      startRuntime({
        config: resolveConfig({
          server: { port: 0 },
          venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
          deployments: [{ id: 'g5', strategy: 'grid', params, venue: 'sim', symbols: ['ETH/USDT'], capitalCap }],
          runtime: { barSeconds: 0.5, warmupBars: 5, staleAfterSeconds: 30, heartbeatSeconds: 2 },
        }),
        profile: 'dev',
        home,
        env: {},
      });
    // ETHUSDT: tick 0.01, minimum notional 5.
    await expect(start({ lower: 2_000, upper: 2_001, levels: 201, quantity: 0.01 })).rejects.toThrow(
      /deployments\.0\.params\.levels.*levels are 0\.005 apart, closer than ETH\/USDT's tick size 0\.01/,
    );
    await expect(start({ lower: 1_900, upper: 2_100, levels: 5, quantity: 0.001 })).rejects.toThrow(
      /deployments\.0\.params\.quantity.*below ETH\/USDT's minimum notional 5/,
    );
    // Every buy level filled: 0.1 x (1900 + 1950 + 2000 + 2050) = 790 of inventory, above a capital cap of 500.
    await expect(start({ lower: 1_900, upper: 2_100, levels: 5, quantity: 0.1 }, 500)).rejects.toThrow(
      /deployments\.0\.params\.quantity.*whole grid can hold 790 of inventory at cost, above the capital 500/,
    );
  });
});
