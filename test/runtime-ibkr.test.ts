/**
 * Deployments on an IBKR venue, end to end in this process (VENUE-3): the runtime builds the IBKR adapter from config
 * (`type: ibkr`, a paper account) on the fake TWS, warms up on IB historical bars and runs on IB's streaming ticks;
 * a stock deployment (AAPL on SMART) and a forex one (EUR.USD on IDEALPRO) share the venue; orders go through the
 * risk engine and fill with IB's commission; a market order on a closed market is refused by the market-hours rule;
 * a restart after a resting order filled while the runtime was down books that fill and agrees with IB's positions.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import type { DomainEvent } from '../src/core/events.js';
import {
  FAKE_TWS_CONTRACTS,
  type FakeTwsHandle,
  fakeTwsHoursClosed,
  startFakeTws,
} from '../src/venues/ibkr/fake-tws.js';

const AAPL = 265598;
const EURUSD = 12087792;
let tws: FakeTwsHandle;
let dir = '';
let runtime: Runtime | undefined;

beforeAll(async () => {
  tws = await startFakeTws({
    account: 'DU555001',
    cash: 100_000,
    quoteIntervalMs: 50,
    contracts: [
      ...FAKE_TWS_CONTRACTS,
      // A stock whose exchange is shut today: a market order on it meets the market-hours rule.
      {
        conId: 272093,
        symbol: 'MSFT',
        secType: 'STK',
        currency: 'USD',
        exchange: 'SMART',
        primaryExch: 'NASDAQ',
        minTick: 0.01,
        price: 420,
        liquidHours: fakeTwsHoursClosed(Date.now()),
      },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), 'tf-runtime-ibkr-'));
});
afterAll(async () => {
  await runtime?.stop('test end');
  await tws?.close();
  rmSync(dir, { recursive: true, force: true });
});

const until = async (what: string, cond: () => boolean, ms = 30_000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('runtime with an IBKR venue', () => {
  it('trades a stock and a forex pair on the fake TWS through the risk engine and reconciles after a restart', async () => {
    const home = resolveHome({}, join(dir, 'home'));
    const config = resolveConfig({
      server: { port: 0 },
      venues: [
        {
          id: 'ib',
          type: 'ibkr',
          sandbox: true,
          options: { host: tws.host, port: tws.port, clientId: 12, reconnectDelayMs: 50 },
        },
      ],
      // Periods so long that the strategy never signals: the test places the orders itself.
      deployments: [
        {
          id: 'stk',
          strategy: 'sma-cross',
          params: { fast: 100, slow: 200 },
          venue: 'ib',
          symbols: ['AAPL/USD', 'MSFT/USD'],
          capitalCap: 50_000,
        },
        {
          id: 'fx',
          strategy: 'sma-cross',
          params: { fast: 100, slow: 200 },
          venue: 'ib',
          symbols: ['EUR/USD'],
          capitalCap: 50_000,
        },
      ],
      runtime: { barSeconds: 1, warmupBars: 5, pollMs: 100, staleAfterSeconds: 30, heartbeatSeconds: 5 },
    });
    runtime = await startRuntime({ config, profile: 'dev', home, env: {} });
    const fills: DomainEvent<'fill.executed.v1'>[] = [];
    const alerts: DomainEvent<'alert.raised.v1'>[] = [];
    runtime.bus.subscribe('fill.executed.v1', (e: DomainEvent<'fill.executed.v1'>) => void fills.push(e));
    runtime.bus.subscribe('alert.raised.v1', (e: DomainEvent<'alert.raised.v1'>) => void alerts.push(e));
    const [stk, fx] = runtime.deployments;
    // Warm-up came from IB historical bars (1-minute bars, all hours).
    const hist = tws.received.filter((m) => m.msgId === 20);
    expect(hist.map((m) => [m.tokens[4], m.tokens[17], m.tokens[20]])).toEqual(
      expect.arrayContaining([
        ['AAPL', '1 min', 'TRADES'],
        ['EUR', '1 min', 'MIDPOINT'],
      ]),
    );
    await until(
      'live prices',
      () =>
        stk.engine.portfolio.last[0] > 0 &&
        fx.engine.portfolio.last[0] > 0 &&
        stk.feed.liveBars > 0 &&
        fx.feed.liveBars > 0,
    );
    expect(stk.engine.portfolio.last[0]).toBe(190);
    // Forex trades no last price at IB: bars are built on the mid.
    expect(fx.engine.portfolio.last[0]).toBeCloseTo(1.1, 10);

    const stockBuy = stk.engine.submitIntent({
      strategyId: 'stk',
      symbol: 'AAPL/USD',
      side: 'buy',
      type: 'market',
      quantity: 10,
    });
    expect(stockBuy, JSON.stringify(stk.engine.riskEvents.at(-1))).not.toBeNull();
    const fxBuy = fx.engine.submitIntent({
      strategyId: 'fx',
      symbol: 'EUR/USD',
      side: 'buy',
      type: 'market',
      quantity: 20_000,
    });
    expect(fxBuy, JSON.stringify(fx.engine.riskEvents.at(-1))).not.toBeNull();
    await until('both fills', () => stk.engine.portfolio.qty[0] === 10 && fx.engine.portfolio.qty[0] === 20_000);
    expect(tws.positionOf(AAPL)).toBe(10);
    expect(tws.positionOf(EURUSD)).toBe(20_000);
    // IB's commission on each fill: 10 shares hit the USD 1 minimum; 0.2 bp of USD 22,000 is under the USD 2 one.
    await until('both fills booked', () => fills.length >= 2);
    const byClient = new Map(fills.map((f) => [f.payload.fill.symbol, f.payload.fill]));
    expect(byClient.get('AAPL/USD')).toMatchObject({ quantity: 10, price: 190, fee: 1 });
    expect(byClient.get('EUR/USD')).toMatchObject({ quantity: 20_000, fee: 2 });
    // Our client order ids travelled as IB's orderRef.
    const cid = stk.bridge.clientOrderIdOf(stockBuy!) as string;
    expect([...tws.orders.values()].some((o) => o.orderRef === cid && o.status === 'Filled')).toBe(true);

    // MSFT's exchange is shut: the market order is refused before it reaches TWS, and the alert says why.
    const placedBefore = tws.received.filter((m) => m.msgId === 3).length;
    const shut = stk.engine.submitIntent({
      strategyId: 'stk',
      symbol: 'MSFT/USD',
      side: 'buy',
      type: 'market',
      quantity: 5,
    });
    expect(shut, JSON.stringify(stk.engine.riskEvents.at(-1))).not.toBeNull();
    await until('the market-hours refusal', () =>
      alerts.some((a) => a.payload.message.includes('outside its regular trading hours')),
    );
    expect(tws.received.filter((m) => m.msgId === 3 && m.tokens[4] === 'MSFT')).toEqual([]);
    expect(tws.received.filter((m) => m.msgId === 3).length).toBe(placedBefore);
    expect(stk.engine.portfolio.qty[1]).toBe(0);

    // A take-profit limit rests at IB; the runtime stops; the price reaches it while we are down.
    const tp = stk.engine.submitIntent({
      strategyId: 'stk',
      symbol: 'AAPL/USD',
      side: 'sell',
      type: 'limit',
      quantity: 10,
      price: 195,
    });
    expect(tp, JSON.stringify(stk.engine.riskEvents.at(-1))).not.toBeNull();
    const tpCid = stk.bridge.clientOrderIdOf(tp!) as string;
    await until('the resting take-profit at TWS', () =>
      [...tws.orders.values()].some((o) => o.orderRef === tpCid && o.status === 'Submitted'),
    );
    await runtime.stop('test');
    runtime = undefined;
    tws.setPrice('AAPL', 196);
    expect(tws.positionOf(AAPL)).toBe(0);

    runtime = await startRuntime({ config, profile: 'dev', home, env: {} });
    const [stk2, fx2] = runtime.deployments;
    // The fill that happened while away is booked once; IB's positions and the books agree.
    expect(stk2.reconcile.fillsApplied).toBe(1);
    expect(stk2.reconcile.finished).toBe(1);
    // Reconciliation says what it found; nothing about positions disagreeing with IB's.
    expect(stk2.reconcile.mismatches).toEqual([
      'Fills applied at startup: 1 fill(s) of stk happened while the runtime was down; booked now',
      `Order finished while down: ${tpCid} is filled on the venue`,
    ]);
    expect(fx2.reconcile.mismatches).toEqual([]);
    expect(stk2.engine.portfolio.qty[0]).toBe(0);
    expect(fx2.engine.portfolio.qty[0]).toBe(20_000);
    const booked = await runtime.store.fills.list({ strategyId: 'stk' });
    expect(booked.filter((f) => f.clientOrderId === tpCid)).toMatchObject([{ quantity: 10, price: 195, fee: 1 }]);
  }, 120_000);
});
