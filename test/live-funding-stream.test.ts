/**
 * The funding booker on a futures venue with the user-data stream: the simulator's funding payment goes out as an
 * `ACCOUNT_UPDATE` (reason FUNDING_FEE), the booker reads the income history at once (its poll period is far away),
 * and the payment, seen both on the stream and over REST, is booked exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FundingBooker as FundingBookerType } from '../src/app/live/funding-booker.js';
import { FundingBooker } from '../src/app/live/funding-booker.js';
import type { DeploymentRuntime } from '../src/app/live/runtime-types.js';
import type { DomainEvent } from '../src/core/events.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import { Portfolio } from '../src/engine/portfolio.js';
import type { Store } from '../src/store/index.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { DEFAULT_MARKETS, type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { sqliteBackend } from './fixtures/store/backends.js';
import { waitFor } from './fixtures/wait.js';

const SYM = 'BTCUSDT';
const RATE = 0.0005;
const backend = sqliteBackend();
let offset = 0;
let sim: SimulatorHandle;
let venue: CcxtVenue;
let store: Store;
let booker: FundingBookerType | undefined;

beforeAll(async () => {
  sim = await startSimulator({
    seed: 31,
    tickIntervalMs: 50,
    now: () => Date.now() + offset,
    requestClock: Date.now,
    markets: DEFAULT_MARKETS.map((m) => ({ ...m, volatility: 0 })),
    futures: { wallet: 50_000, fundingRates: { [SYM]: RATE } },
  });
  venue = new CcxtVenue({
    exchange: 'binanceusdm',
    apiKey: sim.apiKey,
    secret: sim.secret,
    urls: sim.ccxtUrls(),
    rateLimitMs: 1,
    timeoutMs: 3_000,
    pollIntervalMs: 100,
    userStreamRetryMs: 20,
    symbols: ['BTC/USDT'],
    futures: { leverage: 5 },
  });
  store = await backend.open();
});

afterAll(async () => {
  await booker?.close();
  await venue.close();
  await sim.close();
  await backend.cleanup();
});

describe('funding booked from the futures user-data stream', () => {
  it('reads the income at the stream event and books the payment once, however often it is read', async () => {
    const incomeReads = () => sim.requestCount('GET', '/fapi/v1/income');
    const open = await venue.placeOrder({
      clientOrderId: 'fstr-1',
      symbol: 'BTC/USDT',
      side: 'buy',
      type: 'market',
      quantity: 0.1,
    });
    expect(open.status).toBe('filled');
    await store.fills.insert({
      id: 'f1',
      orderId: 'o1',
      clientOrderId: 'fstr-1',
      strategyId: 'fut-a',
      symbol: 'BTC/USDT',
      side: 'buy',
      price: open.averagePrice,
      quantity: 0.1,
      fee: 0,
      liquidity: 'taker',
      time: Date.now() + offset - 1_000,
    });
    const portfolio = new Portfolio(['BTC/USDT'], { cash: 10_000, margin: true });
    const d = { id: 'fut-a', symbols: ['BTC/USDT'], engine: { portfolio } } as unknown as DeploymentRuntime;
    const bus = new InProcessEventBus();
    const booked: { incomeId: string; amount: number }[] = [];
    bus.subscribe('funding.booked.v1', (e: DomainEvent<'funding.booked.v1'>) => booked.push(e.payload));
    const errors: unknown[] = [];
    booker = new FundingBooker({
      venueId: 'fut',
      source: venue,
      deployments: [d],
      store,
      bus,
      // Far away: any read after the first one is the stream's doing.
      pollMs: 600_000,
      onError: (err) => errors.push(err),
    }).start();
    await waitFor('the first read', () => incomeReads() >= 1);
    await waitFor('the funding stream', () => sim.futures.userData.connections() === 1);
    const readsBefore = incomeReads();
    expect(booker.prompted).toBe(0);

    // The simulator's clock passes the funding time: the payment goes to the wallet and out on the stream.
    offset = sim.futures.account.nextFundingTime - Date.now() + 1_000;
    await waitFor('the payment booked', () => booked.length === 1);
    const income = sim.futures.account.income.filter((e) => e.incomeType === 'FUNDING_FEE');
    expect(income).toHaveLength(1);
    expect(booker.prompted).toBeGreaterThanOrEqual(1);
    expect(incomeReads()).toBeGreaterThan(readsBefore);
    expect(booked[0]).toMatchObject({ incomeId: String(income[0].tranId), amount: income[0].income });
    expect(income[0].income).toBeCloseTo(-0.1 * sim.futures.account.markPrice(SYM) * RATE, 6);

    // The REST path reads the same payment again: still booked once, in the store and in the book.
    await booker.poll();
    await booker.poll();
    expect(booked).toHaveLength(1);
    expect(booker.booked).toBe(1);
    expect((await store.funding.byDeployment('fut-a')).map((r) => r.incomeId)).toEqual([String(income[0].tranId)]);
    expect(portfolio.cash - 10_000).toBeCloseTo(income[0].income, 8);
    expect(errors).toEqual([]);
  });
});
