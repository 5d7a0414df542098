import { describe, expect, it } from 'vitest';
import type { ClosedTrade, DomainEvent } from '../src/core/events.js';
import { type Exact, exact, ZERO } from '../src/core/money.js';
import { readCliToken } from '../src/server/api/cli-token.js';
import { openStore } from '../src/store/index.js';
import { simBed, simDeployment } from './fixtures/runtime/sim-bed.js';
import { waitFor } from './fixtures/wait.js';

// Issue 18, item 1 (closed trades): a round trip on the exchange simulator (real ccxt over HTTP) at prices written as
// 0.1 + 0.2, with 1e-8 lots and the buys' fee taken in the base asset, is one closed trade whose exact decimals are
// the same in the trade.closed event, GET /api/trades, the store's trades row and, after a restart, the rebuilt book.
const bed = simBed('runtime-exact-trades', {
  seed: 25,
  tickIntervalMs: 50,
  // A still market (no drift): every fill is at the book level the test put there.
  markets: [
    {
      symbol: 'BTCUSDT',
      base: 'BTC',
      quote: 'USDT',
      price: 0.1 + 0.2,
      tickSize: 0.01,
      stepSize: 0.00000001,
      minQty: 0.00000001,
      minNotional: 0,
      volatility: 0,
    },
  ],
  balances: { USDT: 1000, BTC: 0 },
});

const config = {
  deployments: [simDeployment('xt')],
  runtime: { barSeconds: 1, warmupBars: 5, pollMs: 100, staleAfterSeconds: 30, heartbeatSeconds: 5 },
};

describe('closed trades in exact decimals on the live path', () => {
  it('the trade.closed event, GET /api/trades and the store carry the exact text, and read it back after a restart', async () => {
    const { runtime, home } = await bed.start(config);
    const { sim } = bed;
    const dep = runtime.deployments[0];
    const engine = dep.engine;
    const closed: DomainEvent<'trade.closed.v1'>[] = [];
    runtime.bus.subscribe('trade.closed.v1', (e) => closed.push(e));
    await waitFor('a live price', () => engine.portfolio.last[0] > 0 && dep.feed.liveBars > 0);

    // Two entries: 0.1 + 0.2 + 1e-8 lots at the ask over a mid of 0.1 + 0.2, then 0.2 lots over a mid of 0.7.
    const buy = (quantity: number) =>
      engine.submitIntent({ strategyId: 'xt', symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity });
    const first = buy(0.1 + 0.2 + 1e-8);
    expect(first).not.toBeNull();
    await waitFor('the first buy filled', () => first!.status === 'filled');
    sim.setPrice('BTCUSDT', 0.7);
    await waitFor('the new price', () => engine.portfolio.last[0] > 0.6);
    const second = buy(0.2);
    expect(second).not.toBeNull();
    await waitFor('the second buy filled', () => second!.status === 'filled');
    // The exit: everything held, at the bid under a mid of 0.1 + 0.2 + 0.1.
    sim.setPrice('BTCUSDT', 0.1 + 0.2 + 0.1);
    await waitFor('the exit price', () => engine.portfolio.last[0] < 0.5);
    const exit = engine.submitIntent({
      strategyId: 'xt',
      symbol: 'BTC/USDT',
      side: 'sell',
      type: 'market',
      quantity: engine.portfolio.qty[0],
      reduceOnly: true,
    });
    expect(exit).not.toBeNull();
    await waitFor('the trade closed', () => closed.length === 1);

    // The trade from the venue's own record: each buy credits its quantity less the fee taken in BTC, and that fee
    // counts at the fill price; the sell's fee is in USDT.
    const trades = sim.state.trades;
    expect(trades.map((t) => [t.isBuyer, t.commissionAsset])).toEqual([
      [true, 'BTC'],
      [true, 'BTC'],
      [false, 'USDT'],
    ]);
    let entryQty: Exact = ZERO;
    let entryNotional: Exact = ZERO;
    let exitNotional: Exact = ZERO;
    let fees: Exact = ZERO;
    for (const t of trades) {
      // The simulator's wire text has 8 decimals; its numbers are these decimals.
      const price = exact(t.price.toFixed(8));
      const qty = exact(t.qty.toFixed(8));
      const commission = exact(t.commission.toFixed(8));
      if (t.isBuyer) {
        const credited = qty.minus(commission);
        entryQty = entryQty.plus(credited);
        entryNotional = entryNotional.plus(price.mul(credited));
        fees = fees.plus(commission.mul(price));
      } else {
        exitNotional = exitNotional.plus(price.mul(qty));
        fees = fees.plus(commission);
      }
    }
    const want = {
      entryPrice: entryNotional.div(entryQty).toFixed(),
      exitPrice: exitNotional.div(entryQty).toFixed(),
      quantity: entryQty.toFixed(),
      fees: fees.toFixed(),
      pnl: exitNotional.minus(entryNotional).minus(fees).toFixed(),
    };
    expect(want.quantity).toBe('0.49950001');
    // What doubles make of the same trade (the bookkeeping before exact trades): not the decimal.
    expect(String(entryNotional.toNumber() - exitNotional.toNumber() + fees.toNumber())).not.toBe(
      entryNotional.minus(exitNotional).plus(fees).toFixed(),
    );

    // The event (what the WebSocket's fills topic and the alerts read).
    const trade: ClosedTrade = closed[0].payload.trade;
    expect(trade.exact).toEqual(want);
    expect(trade).toMatchObject({ side: 'long', quantity: 0.49950001, pnl: Number(want.pnl), fees: Number(want.fees) });

    // The API, with the numbers beside the text.
    const api = async (url: string, run: string) => {
      const token = readCliToken(run);
      expect(token).toBeDefined();
      const res = await fetch(`${url}/api/trades`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      return ((await res.json()) as { trades: ClosedTrade[] }).trades;
    };
    await waitFor('the trade stored', async () => (await runtime.store.trades.list()).length === 1);
    const [served] = await api(runtime.url, home.run);
    expect(served.exact).toEqual(want);
    expect(served.pnl).toBe(Number(want.pnl));
    expect(served.entryPrice).toBe(Number(want.entryPrice));

    // The store's row is the text, and reads back exactly once the runtime is down.
    await bed.stop();
    const store = await openStore({ home });
    try {
      expect(
        await store.db
          .selectFrom('trades')
          .select(['entry_price', 'exit_price', 'quantity', 'fees', 'pnl'])
          .executeTakeFirstOrThrow(),
      ).toEqual({
        entry_price: want.entryPrice,
        exit_price: want.exitPrice,
        quantity: want.quantity,
        fees: want.fees,
        pnl: want.pnl,
      });
      const [stored] = await store.trades.list();
      expect(stored.exact).toEqual(want);
    } finally {
      await store.close();
    }

    // A restart rebuilds the book from the stored fills' text: the same trade, and the API serves the same text.
    const again = await bed.start(config);
    const rebuilt = again.runtime.deployments[0].engine.portfolio.trades;
    expect(rebuilt).toHaveLength(1);
    expect(rebuilt[0].exact).toEqual(want);
    const after = await api(again.runtime.url, again.home.run);
    expect(after).toHaveLength(1);
    expect(after[0].exact).toEqual(want);
  }, 240_000);

  it('on paper: the closed trade is the exact sums of its stored fills, served and read back the same', async () => {
    const paper = {
      venues: [{ id: 'pap', type: 'paper', options: { url: bed.sim.url, balances: { USDT: 1000 } } }],
      deployments: [{ ...simDeployment('xp'), venue: 'pap' }],
      runtime: config.runtime,
    };
    bed.sim.setPrice('BTCUSDT', 0.1 + 0.2);
    const { runtime, home } = await bed.start(paper);
    const dep = runtime.deployments[0];
    const engine = dep.engine;
    const closed: ClosedTrade[] = [];
    runtime.bus.subscribe('trade.closed.v1', (e) => closed.push(e.payload.trade));
    await waitFor('a paper price', () => engine.portfolio.last[0] > 0 && dep.feed.liveBars > 0);
    const entry = engine.submitIntent({
      strategyId: 'xp',
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: 0.1 + 0.2 + 1e-8,
    });
    expect(entry).not.toBeNull();
    await waitFor('the paper buy filled', () => entry!.status === 'filled');
    bed.sim.setPrice('BTCUSDT', 0.1 + 0.2 + 0.1);
    await waitFor('the paper exit price', () => engine.portfolio.last[0] > 0.35);
    const exit = engine.submitIntent({
      strategyId: 'xp',
      symbol: 'BTC/USDT',
      side: 'sell',
      type: 'market',
      quantity: engine.portfolio.qty[0],
      reduceOnly: true,
    });
    expect(exit).not.toBeNull();
    await waitFor('the paper trade closed', () => closed.length === 1);
    await waitFor(
      'the paper trade stored',
      async () => (await runtime.store.trades.list({ strategyId: 'xp' })).length === 1,
    );

    // The trade from the deployment's stored fills (their exact text): Σ price × quantity of each side, fees summed.
    const fills = await runtime.store.fills.list({ strategyId: 'xp' });
    expect(fills.map((f) => f.side)).toEqual(['buy', 'sell']);
    const [b, s] = fills.map((f) => ({
      p: exact(f.exact!.price),
      q: exact(f.exact!.quantity),
      fee: exact(f.exact!.fee),
    }));
    const fees = b.fee.plus(s.fee);
    const want = {
      entryPrice: b.p.toFixed(),
      exitPrice: s.p.toFixed(),
      quantity: b.q.toFixed(),
      fees: fees.toFixed(),
      pnl: s.p.mul(s.q).minus(b.p.mul(b.q)).minus(fees).toFixed(),
    };
    expect(want.quantity).toMatch(/^0\.\d{8}$/);
    expect(closed[0].exact).toEqual(want);
    const token = readCliToken(home.run);
    const res = await fetch(`${runtime.url}/api/trades?strategy=xp`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await res.json()) as { trades: ClosedTrade[] }).trades.map((t) => t.exact)).toEqual([want]);
    // The P&L by period sums the trade's text: one trade, so the day's exact P&L is the trade's.
    const pnlRes = await fetch(`${runtime.url}/api/pnl?period=day&strategy=xp`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const pnl = (await pnlRes.json()) as { rows: { pnl: number; exact?: { pnl: string; fees: string } }[] };
    expect(pnl.rows.map((r) => r.exact)).toEqual([{ pnl: want.pnl, fees: want.fees }]);
    expect(pnl.rows[0]?.pnl).toBe(Number(want.pnl));

    // After a restart the rebuilt book closes the same trade from the stored fills' text.
    await bed.stop();
    const again = await bed.start(paper);
    expect(again.runtime.deployments[0].engine.portfolio.trades.map((t) => t.exact)).toEqual([want]);
    expect((await again.runtime.store.trades.list({ strategyId: 'xp' })).map((t) => t.exact)).toEqual([want]);
  }, 240_000);
});
