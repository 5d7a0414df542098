import { describe, expect, it } from 'vitest';
import { defineInstrument } from '../src/core/instrument.js';
import { runBacktest } from '../src/backtest/runner.js';
import { getStrategy } from '../src/strategy/registry.js';
import { resolveParams } from '../src/strategy/params.js';
import { type GridStrategy, gridLevels } from '../src/strategy/builtins/grid.js';
import { candles } from './backtest-helpers.js';

// Issue 17 item 2: a grid configured the way a grid trader writes it, run on hand-made bar paths. Rows are
// [open, high, low, close, volume?]; a resting limit fills at its price when the bar reaches it from the other side,
// and the counter-order placed on that fill rests from the next bar.
const FEE = 0.001;
const profit = (buy: number, sell: number, qty: number) => (sell - buy) * qty - (buy + sell) * qty * FEE;

function run(rows: number[][], params: Record<string, number | string>, extra: { participation?: number } = {}) {
  const def = getStrategy('grid');
  let strat: GridStrategy | undefined;
  // The run's end cancels what still rests: the orders resting after the last bar are kept here.
  let resting: ReturnType<GridStrategy['restingOrders']> = [];
  let state: unknown;
  const r = runBacktest({
    data: { symbol: 'GRID', columns: candles(rows), timeframe: '1d' },
    strategy: {
      ...def,
      create: (p) => {
        const g = def.create(p) as GridStrategy;
        const onBar = g.onBar.bind(g);
        g.onBar = (ctx) => {
          onBar(ctx);
          resting = g.restingOrders();
          state = JSON.parse(JSON.stringify(g.getState()));
        };
        strat = g;
        return g;
      },
    },
    params,
    fee: FEE,
    cash: 10_000,
    ...extra,
  });
  return {
    r,
    grid: strat as GridStrategy,
    state: () => state,
    resting: () => resting.map((o) => [o.level, o.side, o.open]).sort(),
  };
}

describe('grid configuration: hand-made paths', () => {
  it('arithmetic, equal quote per level from a total investment', () => {
    // Levels 100 / 110 / 120. Investment 2200 over the two buy levels: 1100 each -> 11 at 100, 10 at 110.
    const { r, grid, resting } = run(
      [
        [115, 115, 115, 115], // start: buys rest at 100 (11) and 110 (10)
        [114, 114, 108, 112], // buy 110 fills 10 -> sell 10 @ 120
        [113, 121, 112, 119], // sell 120: cycle 1 (110 -> 120, 10) -> buy 10 @ 110
        [111, 111, 105, 106], // buy 110 fills 10 -> sell 10 @ 120
        [104, 105, 99, 101], // buy 100 fills 11 -> sell 11 @ 110
        [102, 112, 101, 111], // sell 110: cycle 2 (100 -> 110, 11) -> buy 11 @ 100
        [112, 122, 111, 121], // sell 120: cycle 3 (110 -> 120, 10) -> buy 10 @ 110
      ],
      { lower: 100, upper: 120, levels: 3, investment: 2200, sizing: 'quote' },
    );
    expect(grid.levelQuantities()).toEqual([11, 10, 0]);
    const want = [profit(110, 120, 10), profit(100, 110, 11), profit(110, 120, 10)];
    expect(want[0]).toBeCloseTo(97.7, 10); // 100 - 1.1 - 1.2
    expect(grid.cycles.map((c) => [c.buyPrice, c.sellPrice, c.quantity])).toEqual([
      [110, 120, 10],
      [100, 110, 11],
      [110, 120, 10],
    ]);
    grid.cycles.forEach((c, i) => {
      expect(c.profit).toBeCloseTo(want[i], 9);
    });
    expect(r.strategyStats?.summary?.['inventory at end']).toBe(0);
    // Resting at the end: the buys answering the last two sells.
    expect(resting()).toEqual([
      [0, 'buy', 11],
      [1, 'buy', 10],
    ]);
    // Allocation: 11 x 100 + 10 x 110 = the investment.
    expect(r.strategyStats?.summary?.allocation).toBeCloseTo(2200, 9);
  });

  it('geometric, equal base quantity per level, ending with inventory', () => {
    // Levels 100 / 110 / 121 (ratio 1.1). Investment 420 in equal base: 420 / (100 + 110) = 2 at each buy level.
    const levels = gridLevels(100, 121, 3, 'geometric');
    expect(levels[1]).toBeCloseTo(110, 9);
    const { r, grid, resting } = run(
      [
        [115, 115, 115, 115], // start: buys rest at 100 and 110 (2 each)
        [112, 112, 108, 109], // buy 110 fills 2 -> sell 2 @ 121
        [110, 122, 109, 120], // sell 121: cycle 1 (110 -> 121, 2) -> buy 2 @ 110
        [109, 109, 99, 100], // buy 110 (at the open 109: a gap fills at the open) and buy 100 fill
        [100, 101, 100, 100], // nothing
      ],
      { lower: 100, upper: 121, levels: 3, spacing: 'geometric', investment: 420, sizing: 'base' },
    );
    expect(grid.levelQuantities()?.slice(0, 2)).toEqual([2, 2]);
    expect(grid.cycles).toHaveLength(1);
    expect(grid.cycles[0].buyPrice).toBeCloseTo(levels[1], 9);
    expect(grid.cycles[0].sellPrice).toBeCloseTo(121, 9);
    expect(grid.cycles[0].profit).toBeCloseTo(profit(levels[1], 121, 2), 9);
    // Final inventory: 2 bought at 109 (the gap) + 2 at 100, each answered by a sell one level up.
    expect(r.strategyStats?.summary?.['inventory at end']).toBe(4);
    expect(resting()).toEqual([
      [1, 'sell', 2],
      [2, 'sell', 2],
    ]);
  });

  it('partial fills: each part is answered at once, level by level', () => {
    // Levels 100 / 110 / 120, 2 units per level; at most half of a bar's volume executes (partial fills).
    const { r, grid, resting } = run(
      [
        [115, 115, 115, 115, 2], // start: buys 2 @ 100 and 2 @ 110
        [112, 112, 108, 111, 2], // buy 110 fills 1 of 2 -> sell 1 @ 120
        [111, 112, 109, 111, 2], // buy 110 fills its other 1 -> a second sell 1 @ 120
        [112, 121, 111, 119, 4], // both sells fill (2 of the bar's 4): cycles 2 and 3 -> two buys of 1 @ 110
        [119, 119, 118, 118, 4], // nothing
      ],
      { lower: 100, upper: 120, levels: 3, quantity: 2 },
      { participation: 0.5 },
    );
    expect(r.fillRecords.map((f) => [f.side, f.price, f.quantity])).toEqual([
      ['buy', 110, 1],
      ['buy', 110, 1],
      ['sell', 120, 1],
      ['sell', 120, 1],
    ]);
    expect(grid.cycles).toHaveLength(2);
    for (const c of grid.cycles) {
      expect([c.buyPrice, c.sellPrice, c.quantity]).toEqual([110, 120, 1]);
      expect(c.profit).toBeCloseTo(profit(110, 120, 1), 9);
    }
    expect(r.strategyStats?.summary?.['inventory at end']).toBe(0);
    expect(resting()).toEqual([
      [0, 'buy', 2],
      [1, 'buy', 1],
      [1, 'buy', 1],
    ]);
  });

  it('take-profit above the grid sells the inventory and stops; out-of-range pause cancels and comes back', () => {
    const tp = run(
      [
        [115, 115, 115, 115],
        [112, 112, 108, 109], // buy 110 fills 1
        [109, 131, 109, 130], // close 130 >= take-profit 125: sells 1 and stops
        [130, 130, 100, 100], // stopped: nothing more
      ],
      { lower: 100, upper: 120, levels: 3, quantity: 1, takeProfit: 125 },
    );
    expect(tp.grid.stoppedOut).toBe(true);
    expect(tp.grid.selfStopReason()).toMatch(/take-profit/);
    expect(tp.r.strategyStats?.summary?.['inventory at end']).toBe(0);
    expect(tp.resting()).toEqual([]);

    const pause = run(
      [
        [115, 115, 115, 115], // buys at 100 and 110
        [116, 126, 116, 125], // close above upper: pause (orders cancelled)
        [124, 124, 108, 112], // paused: the dip to 108 fills nothing; the close 112 is in range: buys placed again
        [111, 111, 105, 106], // buy 110 fills
      ],
      { lower: 100, upper: 120, levels: 3, quantity: 1, outOfRange: 'pause' },
    );
    expect(pause.grid.pauses.map((p) => p.reason)).toEqual(['out of range']);
    expect(pause.grid.pauses[0].resumedAt).not.toBeNull();
    // The grid's own fills (the run's end then closes what is held at the last close).
    const gridFills = pause.r.fillRecords.filter((f) => f.orderType === 'limit');
    expect(gridFills.map((f) => [f.side, f.price])).toEqual([['buy', 110]]);
  });
});

describe('grid configuration: one-line validation errors', () => {
  const def = getStrategy('grid');
  const params = (p: Record<string, number | string>) => resolveParams(def, p);
  const venue = (inst: Partial<Parameters<typeof defineInstrument>[0]>, capital = 10_000) => ({
    instruments: [defineInstrument({ symbol: 'BTC/USDT', ...inst })],
    capital,
  });

  it('refuses a range upside down, fewer than two levels, stop-loss in the grid, take-profit in the grid', () => {
    expect(() => params({ lower: 120, upper: 100 })).toThrow('strategy grid: lower (120) must be below upper (100)');
    expect(() => params({ lower: 100, upper: 120, levels: 1 })).toThrow(/"levels": 1 is below the minimum 2/);
    expect(() => params({ lower: 100, upper: 120, stopLoss: 100 })).toThrow(/stopLoss \(100\) must be below/);
    expect(() => params({ lower: 100, upper: 120, takeProfit: 119 })).toThrow(/takeProfit \(119\) must be above/);
    expect(() => params({ lower: 100, upper: 120, investment: 1000, capitalShare: 0.75 })).toThrow(
      /investment or capitalShare, not both/,
    );
    expect(() => params({ lower: 100, upper: 120, sizing: 'both' })).toThrow(/expected one of quote, base/);
  });

  it('refuses levels closer than the tick, orders below the minimum notional, a grid above the capital', () => {
    const p = params({ lower: 100, upper: 101, levels: 201, quantity: 0.01 });
    expect(() => def.checkVenue?.(p, venue({ tickSize: 0.01 }))).toThrow(
      /levels are 0\.005 apart, closer than BTC\/USDT's tick size 0\.01/,
    );
    expect(() => def.checkVenue?.(p, venue({ tickSize: 0.001 }))).not.toThrow();
    const small = params({ lower: 100, upper: 120, levels: 5, investment: 16 });
    expect(() => def.checkVenue?.(small, venue({ minNotional: 5 }))).toThrow(
      /order at level 0 \(100\) is worth 4, below BTC\/USDT's minimum notional 5/,
    );
    const share = params({ lower: 100, upper: 120, levels: 5, capitalShare: 0.75 });
    expect(() => def.checkVenue?.(share, venue({ minNotional: 5 }, 10_000))).not.toThrow();
    expect(() => def.checkVenue?.(share, venue({ minNotional: 5 }, 20))).toThrow(/minimum notional/);
    // Fixed quantity: 1 at 100, 105, 110, 115 = 430 of possible inventory, above a capital of 400.
    const big = params({ lower: 100, upper: 120, levels: 5, quantity: 1 });
    expect(() => def.checkVenue?.(big, venue({}, 400))).toThrow(
      /whole grid can hold 430 of inventory at cost, above the capital 400/,
    );
    expect(() => def.checkVenue?.(big, venue({}, 430))).not.toThrow();
  });
});

describe('grid: orders the order path refuses are placed on a later bar, none lost', () => {
  it('an order budget of one order per minute places the grid one level per bar', () => {
    const def = getStrategy('grid');
    let grid: GridStrategy | undefined;
    const resting: string[][] = [];
    runBacktest({
      data: {
        symbol: 'GRID',
        columns: candles([
          [125, 125, 125, 125], // start: buy @ 100 placed, buy @ 110 refused by the budget
          [125, 125, 125, 125], // the refused buy @ 110 placed
          [125, 125, 125, 125],
        ]),
        timeframe: '1d',
      },
      strategy: {
        ...def,
        create: (p) => {
          const g = def.create(p) as GridStrategy;
          const onBar = g.onBar.bind(g);
          g.onBar = (ctx) => {
            onBar(ctx);
            resting.push(g.restingOrders().map((o) => `${o.side}@${o.level}`));
          };
          grid = g;
          return g;
        },
      },
      params: { lower: 100, upper: 120, levels: 3, quantity: 1 },
      riskConfig: { orderRate: { perMinute: 1, perSecond: 1 } },
      fee: FEE,
    });
    expect(resting).toEqual([['buy@0'], ['buy@0', 'buy@1'], ['buy@0', 'buy@1']]);
    expect(grid?.getState()).toMatchObject({ pending: [] });
  });
});

describe('grid: fees taken in the base asset (Binance spot)', () => {
  it('the buy answering a sale is the size that was bought, not the smaller quantity credited', () => {
    const def = getStrategy('grid');
    let grid: GridStrategy | undefined;
    const r = runBacktest({
      data: {
        symbol: 'GRID',
        columns: candles([
          [115, 115, 115, 115], // buys 1 @ 100 and 1 @ 110
          [114, 114, 108, 112], // buy 110 fills 1: 0.999 credited (0.001 fee in base) -> sell 0.999 @ 120
          [113, 121, 112, 119], // sell 120: cycle 1 (0.999) -> buy 1 @ 110 (what was bought), not 0.999
          [111, 111, 105, 106], // buy 110 fills 1 again -> sell 0.999 @ 120
          [112, 122, 111, 121], // cycle 2 (0.999)
        ]),
        timeframe: '1d',
      },
      strategy: {
        ...def,
        create: (p) => {
          grid = def.create(p) as GridStrategy;
          return grid;
        },
      },
      params: { lower: 100, upper: 120, levels: 3, quantity: 1 },
      fee: FEE,
      feeAsset: 'base',
      lot: 0.001,
    });
    const buys = r.fillRecords.filter((f) => f.side === 'buy');
    expect(buys.map((f) => f.price)).toEqual([110, 110]);
    // Both buys credited 0.999 (1 - 0.1 %): the second buy was 1 again, so the grid did not shrink.
    expect(buys.map((f) => f.quantity)).toEqual([0.999, 0.999]);
    expect(grid?.cycles.map((c) => c.quantity)).toEqual([0.999, 0.999]);
    // Profit per cycle: 0.999 x (120 - 110) less the 0.001 of base lost at 110 and 0.1 % of the sale in quote.
    for (const c of grid?.cycles ?? []) expect(c.profit).toBeCloseTo(0.999 * 10 - 0.001 * 110 - 0.999 * 120 * FEE, 9);
  });
});

describe('grid state', () => {
  it('restores its orders, inventory and cycles; a changed grid keeps only its cycle history', () => {
    const def = getStrategy('grid');
    const params = resolveParams(def, { lower: 100, upper: 120, levels: 3, quantity: 1 });
    const { state } = run(
      [
        [115, 115, 115, 115],
        [114, 114, 108, 112], // buy 110 fills -> sell 1 @ 120
        [113, 121, 112, 119], // cycle -> buy 1 @ 110
        [111, 111, 105, 106], // buy 110 fills -> sell 1 @ 120
      ],
      { lower: 100, upper: 120, levels: 3, quantity: 1 },
    );
    // As saved after the last bar: buy 1 @ 100 and sell 1 @ 120 resting.
    const saved = state() as { seq: number; orders: { level: number; side: string; open: number }[] };
    expect(saved.orders.map((o) => [o.level, o.side, o.open]).sort()).toEqual([
      [0, 'buy', 1],
      [2, 'sell', 1],
    ]);
    const same = def.create(params) as GridStrategy;
    same.restore(saved);
    expect(same.cycles).toHaveLength(1);
    expect(same.getState()).toMatchObject({ boughtAt: [{ qty: 0 }, { qty: 1 }, { qty: 0 }], seq: saved.seq });
    // The orders of the saved state, awaiting startup reconciliation (not yet seen on the venue: id '').
    expect(same.restingOrders().map((o) => [o.level, o.side, o.open, o.id])).toEqual(
      saved.orders.map((o) => [o.level, o.side, o.open, '']),
    );
    const moved = def.create(resolveParams(def, { lower: 100, upper: 130, levels: 3, quantity: 1 })) as GridStrategy;
    moved.restore(saved);
    expect(moved.cycles).toHaveLength(1);
    expect(moved.restingOrders()).toEqual([]);
    expect(moved.getState()).toMatchObject({ boughtAt: [{ qty: 0 }, { qty: 0 }, { qty: 0 }], started: false });
  });
});
