import { afterAll, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../core/events.js';
import { InProcessEventBus } from '../../engine/event-bus.js';
import { Portfolio } from '../../engine/portfolio.js';
import type { FundingPayment } from '../../venues/ccxt/index.js';
import { sqliteBackend } from '../../../test/fixtures/store/backends.js';
import { FundingBooker, fundingOwners } from './funding-booker.js';
import type { DeploymentRuntime } from './runtime-types.js';

const backend = sqliteBackend();
afterAll(() => backend.cleanup());

/** The parts of a deployment the booker reads: its id, symbols and book. */
const deployment = (id: string, symbols: string[]) =>
  ({
    id,
    symbols,
    engine: { portfolio: new Portfolio(symbols, { cash: 1_000, margin: true }) },
  }) as unknown as DeploymentRuntime;

describe('FundingBooker', () => {
  it('reads nothing before the first fill, then books each payment once by income id, only for traded symbols', async () => {
    const store = await backend.open();
    const bus = new InProcessEventBus();
    const events: unknown[] = [];
    bus.subscribe('funding.booked.v1', (e: DomainEvent<'funding.booked.v1'>) => events.push(e.payload));
    const sinces: (number | undefined)[] = [];
    let list: FundingPayment[] = [];
    const source = {
      fetchFundingPayments: async (since?: number) => {
        sinces.push(since);
        return list;
      },
    };
    const d = deployment('a', ['BTC/USDT']);
    const booker = new FundingBooker({
      venueId: 'fut',
      source,
      deployments: [d],
      store,
      bus,
      pollMs: 60_000,
      onError: (err) => {
        throw err;
      },
    });
    // No fill stored: funding before we traded is not ours, the venue is not even asked.
    await booker.poll();
    expect(sinces).toEqual([]);

    await store.fills.insert({
      id: 'f1',
      orderId: 'o1',
      clientOrderId: 'c1',
      strategyId: 'a',
      symbol: 'BTC/USDT',
      side: 'buy',
      price: 100,
      quantity: 1,
      fee: 0,
      liquidity: 'taker',
      time: 5_000,
    });
    list = [
      { id: '11', symbol: 'BTC/USDT', amount: -0.25, asset: 'USDT', time: 8_000 },
      { id: '12', symbol: 'ETH/USDT', amount: 3, asset: 'USDT', time: 8_000 },
    ];
    await booker.poll();
    expect(sinces).toEqual([5_000]);
    const pf = d.engine.portfolio;
    expect(pf.cash).toBeCloseTo(1_000 - 0.25, 10);
    expect(pf.realizedPnl).toBeCloseTo(-0.25, 10);
    expect(events).toHaveLength(1);

    // An overlapping poll returns the same payment again: not booked twice; the next read starts at its time.
    list = [...list, { id: '13', symbol: 'BTC/USDT', amount: 0.1, asset: 'USDT', time: 16_000 }];
    await booker.poll();
    expect(sinces).toEqual([5_000, 8_000]);
    expect(pf.cash).toBeCloseTo(1_000 - 0.25 + 0.1, 10);
    expect((await store.funding.byDeployment('a')).map((r) => r.incomeId)).toEqual(['11', '13']);
    expect(events).toHaveLength(2);
    await booker.close();
    await store.close();
  });

  it('names the two deployments sharing a symbol on one futures venue', () => {
    const deps = [
      { id: 'a', venue: 'fut', symbols: ['BTC/USDT'] },
      { id: 'b', venue: 'spot', symbols: ['BTC/USDT'] },
      { id: 'c', venue: 'fut', symbols: ['ETH/USDT', 'BTC/USDT'] },
    ];
    expect(() => fundingOwners('spot', deps)).not.toThrow();
    expect(() => fundingOwners('fut', deps)).toThrow(/c and a both trade BTC\/USDT on futures venue fut/);
    expect(fundingOwners('fut', deps.slice(0, 2))).toEqual(new Map([['BTC/USDT', 'a']]));
  });
});
