/**
 * The paper venue runs the backtester's matching engine (one engine, as in NautilusTrader's sandbox), and its account
 * is durable: every change is saved before anyone hears of it. Live prices come from the simulator over real ccxt
 * (keyless); the test moves the simulator's price, so every crossing is deterministic.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PercentFeeModel } from '../src/backtest/fee-model.js';
import { BarFillModel, VolumeParticipation } from '../src/backtest/fill-model.js';
import { SimulatedVenue } from '../src/backtest/simulated-venue.js';
import { PercentSlippage } from '../src/backtest/slippage-model.js';
import type { Liquidity, Order, Ticker, VenueFill, VenueOrderRequest } from '../src/core/index.js';
import type { BarLike } from '../src/engine/execution-venue.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { PaperVenue, type PaperVenueOptions, type PaperState } from '../src/venues/paper/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

const SYM = 'BTC/USDT';
const SIM_SYM = 'BTCUSDT';

let sim: SimulatorHandle;
const venues: PaperVenue[] = [];
let seq = 0;
const cid = (tag: string) => `pe${tag}${Date.now().toString(36)}${(seq++).toString(36)}`;

async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const newMarket = () => new CcxtVenue({ exchange: 'binance', urls: sim.ccxtUrls(), rateLimitMs: 1, timeoutMs: 3_000 });

async function paper(price: number, opts: Partial<PaperVenueOptions> = {}): Promise<PaperVenue> {
  const v = new PaperVenue({ market: newMarket(), closeMarket: true, balances: { USDT: 10_000, BTC: 0.1 }, ...opts });
  venues.push(v);
  await v.track(SYM);
  await waitFor(() => {
    if (v.lastQuote(SYM)?.last === price) return true;
    sim.setPrice(SIM_SYM, price);
    return false;
  }, `first ticker at ${price}`);
  return v;
}

async function moveTo(v: PaperVenue, price: number): Promise<void> {
  sim.setPrice(SIM_SYM, price);
  await waitFor(() => v.lastQuote(SYM)?.last === price, `ticker at ${price}`);
}

/** Volume on the simulator: a trade of its own account, published with the next price move. */
const trade = (qty: number) =>
  sim.state.placeOrder({ symbol: SIM_SYM, side: 'BUY', type: 'MARKET', quantity: qty }, cid('vol'));

/** A backtest order for the same request. */
function backtestOrder(req: VenueOrderRequest): Order {
  return {
    id: req.clientOrderId,
    clientOrderId: req.clientOrderId,
    strategyId: 'bt',
    symbol: req.symbol,
    side: req.side,
    type: req.type,
    quantity: req.quantity,
    ...(req.price !== undefined ? { price: req.price } : {}),
    ...(req.stopPrice !== undefined ? { stopPrice: req.stopPrice } : {}),
    timeInForce: 'GTC',
    reduceOnly: false,
    status: 'accepted',
    filledQuantity: 0,
    averageFillPrice: 0,
    fees: 0,
    createdAt: 0,
    updatedAt: 0,
    source: 'strategy',
    correlationId: req.clientOrderId,
  };
}

type Exec = { order: string; price: number; quantity: number; fee: number; liquidity: Liquidity };

beforeAll(async () => {
  sim = await startSimulator({ seed: 21, tickIntervalMs: 0 });
});

afterEach(async () => {
  for (const v of venues.splice(0)) await v.close();
});

afterAll(async () => {
  await sim?.close();
});

describe('paper venue: one matching engine with the backtest', () => {
  it('the live updates it saw, replayed as bars through the backtest SimulatedVenue, give the very same fills', async () => {
    const fees = new PercentFeeModel(0.0002, 0.0007);
    const slippage = new PercentSlippage(0.0005);
    const v = await paper(30_000, { fees, slippage, partialFillParticipation: 0.5 });
    // Every update the matcher used, in order: the one it holds now, then its own price stream (shared with us).
    const seen: Ticker[] = [{ ...v.lastQuote(SYM)! }];
    v.watchTicker(SYM, (t) => seen.push({ ...t }));
    const requests: VenueOrderRequest[] = [
      { clientOrderId: cid('lim'), symbol: SYM, side: 'buy', type: 'limit', quantity: 0.02, price: 29_500 },
      { clientOrderId: cid('stp'), symbol: SYM, side: 'sell', type: 'stop', quantity: 0.01, stopPrice: 29_450 },
      {
        clientOrderId: cid('stl'),
        symbol: SYM,
        side: 'buy',
        type: 'stop_limit',
        quantity: 0.01,
        stopPrice: 30_200,
        price: 30_250,
      },
    ];
    const placedAfter: number[] = [];
    for (const r of requests) {
      placedAfter.push(seen.length);
      await v.placeOrder(r);
    }
    // Partial fills by the participation cap, a stop gapped through, a stop-limit triggered beyond its limit and
    // filled later as a limit.
    trade(0.01);
    await moveTo(v, 29_400);
    trade(0.01);
    await moveTo(v, 29_390);
    trade(0.06);
    await moveTo(v, 29_380);
    trade(0.02);
    await moveTo(v, 30_300);
    trade(0.02);
    await moveTo(v, 30_240);

    const names = new Map(requests.map((r) => [r.clientOrderId, r.clientOrderId.slice(2, 5)]));
    const paperExecs: Exec[] = (await v.fetchFills(SYM)).map((f: VenueFill) => ({
      order: names.get(f.clientOrderId ?? '') ?? '?',
      price: f.price,
      quantity: f.quantity,
      fee: f.fee,
      liquidity: f.liquidity,
    }));
    // The run is meaningful: partial fills, maker and taker, all three orders.
    expect(new Set(paperExecs.map((e) => e.order))).toEqual(new Set(['lim', 'stp', 'stl']));
    expect(paperExecs.filter((e) => e.order === 'lim').length).toBeGreaterThan(1);

    // The backtest: the same engine class on the same updates as bars (four prices `last`, the volume traded since
    // the previous update), orders submitted after the update they followed.
    let now = 0;
    const bt = new SimulatedVenue({
      clock: { now: () => now },
      fill: new BarFillModel(),
      fees,
      slippage,
      participation: new VolumeParticipation(0.5),
      instruments: await v.fetchInstruments(),
    });
    const btExecs: Exec[] = [];
    bt.attach(
      {
        onAccepted: () => undefined,
        checkFill: () => null,
        onFill: (o, price, quantity, fee, liquidity) => {
          o.filledQuantity += quantity;
          if (o.filledQuantity >= o.quantity * (1 - 1e-12)) o.status = 'filled';
          btExecs.push({ order: names.get(o.clientOrderId) ?? '?', price, quantity, fee, liquidity });
        },
        onCancelled: (o) => {
          o.status = 'cancelled';
        },
        onRejected: (o) => {
          o.status = 'rejected';
        },
      },
      [SYM],
    );
    const bar: BarLike = { time: 0, open: 0, high: 0, low: 0, close: 0, volume: 0 };
    let prevVolume = Number.NaN;
    for (let i = 0; i <= seen.length; i++) {
      requests.forEach((r, k) => {
        if (placedAfter[k] === i) bt.submit(backtestOrder(r));
      });
      if (i === seen.length) break;
      const t = seen[i];
      const volume = Number.isNaN(prevVolume) ? 0 : Math.max(0, (t.volume ?? 0) - prevVolume);
      prevVolume = t.volume ?? Number.NaN;
      now = t.time;
      Object.assign(bar, { time: t.time, open: t.last, high: t.last, low: t.last, close: t.last, volume });
      bt.onMarketBar(0, bar);
    }
    expect(paperExecs).toEqual(btExecs);
  });
});

describe('paper venue: durable account', () => {
  it('saves every change before it is announced; a crash before the save loses only what nobody heard of', async () => {
    const saves: PaperState[] = [];
    let release: (() => void) | undefined;
    let hold = false;
    const save = async (s: PaperState) => {
      if (hold) await new Promise<void>((r) => (release = r));
      saves.push(JSON.parse(JSON.stringify(s)) as PaperState);
    };
    const v = await paper(30_000, { save });
    const heard: VenueFill[] = [];
    v.watchFills((f) => heard.push(f));
    const placed = await v.placeOrder({
      clientOrderId: cid('lim'),
      symbol: SYM,
      side: 'buy',
      type: 'limit',
      quantity: 0.01,
      price: 29_500,
    });
    // Answered only once saved: the last snapshot holds the resting order and its reservation.
    const last = () => saves[saves.length - 1];
    expect(last().orders.find((o) => o.order.id === placed.venueOrderId)?.order.status).toBe('accepted');
    const savedBefore = saves.length;

    // The fill happens while the store is slow: nobody hears of it until the snapshot holding it is written.
    hold = true;
    await moveTo(v, 29_400);
    const reading = v.fetchFills(SYM);
    let read = false;
    void reading.then(() => {
      read = true;
    });
    // The fill is in the account and its snapshot is being written (the store holds it): not yet announced.
    await waitFor(() => release !== undefined, 'the save of the fill to start');
    expect(v.getState().fills).toHaveLength(1);
    expect(heard).toEqual([]);
    expect(read).toBe(false);
    expect(saves.length).toBe(savedBefore);

    // Killed now: the account restored from the last written snapshot has the order still resting, no fill, and
    // matches it again on the next update (the fill nobody heard of is not lost, it happens again).
    const crashed = new PaperVenue({ market: newMarket(), closeMarket: true, balances: { USDT: 1 } });
    venues.push(crashed);
    crashed.restore(last());
    await crashed.connect();
    expect(await crashed.fetchFills()).toEqual([]);
    expect((await crashed.fetchOpenOrders()).map((o) => o.venueOrderId)).toEqual([placed.venueOrderId]);
    expect((await crashed.fetchBalances()).find((b) => b.asset === 'USDT')?.used).toBeCloseTo(0.01 * 29_500 * 1.001, 6);

    // The save lands: then, and only then, the fill is announced and read; the snapshot has it with its trade id.
    hold = false;
    release?.();
    const fills = await reading;
    expect(fills).toHaveLength(1);
    expect(heard.map((f) => f.venueTradeId)).toEqual([fills[0].venueTradeId]);
    expect(last().fills.map((f) => f.venueTradeId)).toEqual([fills[0].venueTradeId]);
    // Restored from it, the account reports that fill under the same id (reconciliation books it once) and goes on
    // numbering after it.
    const restarted = new PaperVenue({ market: newMarket(), closeMarket: true, balances: { USDT: 1 } });
    venues.push(restarted);
    restarted.restore(last());
    await restarted.connect();
    expect(await restarted.fetchFills()).toEqual(fills);
    expect(await restarted.fetchBalances()).toEqual(await v.fetchBalances());
    await restarted.track(SYM);
    await waitFor(() => {
      if (restarted.lastQuote(SYM)?.last === 29_410) return true;
      sim.setPrice(SIM_SYM, 29_410);
      return false;
    }, 'restarted stream');
    const next = await restarted.placeOrder({
      clientOrderId: cid('mkt'),
      symbol: SYM,
      side: 'buy',
      type: 'market',
      quantity: 0.001,
    });
    expect(next.status).toBe('filled');
    const ids = (await restarted.fetchFills()).map((f) => f.venueTradeId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keeps and saves only the last `history` fills and finished orders; open orders always', async () => {
    let saved: PaperState | undefined;
    const v = await paper(30_000, { history: 2, save: async (s) => void (saved = s) });
    const resting = await v.placeOrder({
      clientOrderId: cid('rest'),
      symbol: SYM,
      side: 'buy',
      type: 'limit',
      quantity: 0.01,
      price: 20_000,
    });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const o = await v.placeOrder({
        clientOrderId: cid('m'),
        symbol: SYM,
        side: 'buy',
        type: 'market',
        quantity: 0.001,
      });
      expect(o.status).toBe('filled');
      ids.push(o.venueOrderId);
    }
    expect((await v.fetchFills()).map((f) => f.venueOrderId)).toEqual(ids.slice(2));
    expect(await v.fetchOrder({ symbol: SYM, venueOrderId: ids[0] })).toBeNull();
    expect((await v.fetchOrder({ symbol: SYM, venueOrderId: ids[3] }))?.status).toBe('filled');
    expect((await v.fetchOpenOrders()).map((o) => o.venueOrderId)).toEqual([resting.venueOrderId]);
    expect(saved?.fills).toHaveLength(2);
    expect(saved?.orders.map((o) => o.order.id).sort()).toEqual([resting.venueOrderId, ...ids.slice(2)].sort());
    // The balances still count every fill, dropped from the history or not.
    const btc = (await v.fetchBalances()).find((b) => b.asset === 'BTC');
    expect(btc?.total).toBeCloseTo(0.1 + 4 * 0.001, 12);
  });
});
