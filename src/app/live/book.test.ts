import { afterAll, describe, expect, it } from 'vitest';
import { DataError } from '../../core/errors.js';
import type { Fill } from '../../core/fill.js';
import { defineInstrument } from '../../core/instrument.js';
import { decimalText } from '../../core/money.js';
import { Portfolio } from '../../engine/portfolio.js';
import { fillToRow, type Store } from '../../store/index.js';
import { sqliteBackend } from '../../../test/fixtures/store/backends.js';
import { deploymentCash, multipliersKey, readMultipliers, rebuildBook, saveMultipliers } from './book.js';
import { replayFunding } from './funding-booker.js';
import { replayFills } from './journal.js';
import type { DeploymentRuntime } from './runtime-types.js';
import type { Engine } from '../../engine/engine.js';

const backend = sqliteBackend();
afterAll(() => backend.cleanup());

// A contract worth 5 per point, bought as 0.1 + 0.2 (0.30000000000000004 in doubles), then 0.1 sold at a profit.
const FILLS: Fill[] = [
  fill('f1', 'buy', '100', '0.1', '0.05', 1_000),
  fill('f2', 'buy', '100', '0.2', '0.1', 2_000),
  fill('f3', 'sell', '110', '0.1', '0.05', 3_000),
];

function fill(id: string, side: 'buy' | 'sell', price: string, quantity: string, fee: string, time: number): Fill {
  return {
    id,
    orderId: `o-${id}`,
    clientOrderId: `o-${id}`,
    strategyId: 'fut',
    symbol: 'BTC/USDT:USDT',
    side,
    price: Number(price),
    quantity: Number(quantity),
    fee: Number(fee),
    liquidity: 'taker',
    time,
    exact: { price, quantity, fee },
  };
}

async function seeded(): Promise<Store> {
  const store = await backend.open();
  for (const f of FILLS) await store.fills.insert(f);
  // Another deployment's fill and a symbol the deployment does not trade: neither is in its book.
  await store.fills.insert({ ...FILLS[0], id: 'other', strategyId: 'spot' });
  await store.fills.insert({ ...FILLS[0], id: 'eth', symbol: 'ETH/USDT:USDT' });
  await store.funding.insertOnce({
    venue: 'v',
    incomeId: '1',
    deploymentId: 'fut',
    symbol: 'BTC/USDT:USDT',
    amount: 1.25,
    asset: 'USDT',
    time: 4_000,
    bookedAt: 4_000,
  });
  await saveMultipliers(store, 'fut', [defineInstrument({ symbol: 'BTC/USDT:USDT', kind: 'future', multiplier: 5 })]);
  return store;
}

const deployment = { id: 'fut', symbols: ['BTC/USDT:USDT'], config: { capitalCap: 2_000 } };

describe('rebuildBook', () => {
  it('books the stored fills and funding exactly, with the recorded multiplier and the capital cap as cash', async () => {
    const store = await seeded();
    const pf = await rebuildBook(store, deployment);
    const x = pf.exact!;
    // 2000 − 0.3 × 100 × 5 − 0.15 + 0.1 × 110 × 5 − 0.05 + 1.25 funding
    expect(decimalText(x.cash)).toBe('1906.05');
    // (110 − 100) × 0.1 × 5 + 1.25 funding: fees are not deducted from realised P&L (they are in cash).
    expect(decimalText(x.realizedPnl)).toBe('6.25');
    expect(decimalText(x.feesPaid)).toBe('0.2');
    expect(decimalText(x.qty[0])).toBe('0.2');
    expect(decimalText(x.avg[0])).toBe('100');
    expect(pf.cash).toBe(1906.05);
    expect(pf.qty[0]).toBe(0.2);
    expect(pf.cashFlows).toBe(1.25);
    // Marked at the last fill price (the live mark is not stored).
    expect(pf.last[0]).toBe(110);
    await store.close();
  });

  it('equals the book the runtime restores on restart (replayFills, then replayFunding)', async () => {
    const store = await seeded();
    const runtimeBook = new Portfolio(['BTC/USDT:USDT'], {
      cash: deploymentCash({ capitalCap: 2_000 }),
      multipliers: [5],
      strategyId: 'fut',
      exact: 'authority',
    });
    const engine = { portfolio: runtimeBook, fills: 0 } as unknown as Engine;
    const replay = await replayFills(store, engine);
    expect(replay.fills).toBe(4);
    expect(engine.fills).toBe(3);
    await replayFunding(store, { id: 'fut', engine } as unknown as DeploymentRuntime);
    const offline = await rebuildBook(store, deployment);
    for (const k of ['cash', 'realizedPnl', 'feesPaid'] as const)
      expect(decimalText(offline.exact![k])).toBe(decimalText(runtimeBook.exact![k]));
    expect(decimalText(offline.exact!.qty[0])).toBe(decimalText(runtimeBook.exact!.qty[0]));
    expect(offline.cash).toBe(runtimeBook.cash);
    expect(offline.realizedPnl).toBe(runtimeBook.realizedPnl);
    await store.close();
  });

  it('starts from 10 000 without a capital cap, and from a multiplier of 1 where none is recorded', async () => {
    expect(deploymentCash({})).toBe(10_000);
    expect(deploymentCash({ capitalCap: 500 })).toBe(500);
    const store = await backend.open();
    await store.fills.insert({ ...FILLS[0], strategyId: 'spot', symbol: 'BTC/USDT' });
    expect(await readMultipliers(store, 'spot', ['BTC/USDT'])).toEqual([1]);
    const pf = await rebuildBook(store, { id: 'spot', symbols: ['BTC/USDT'], config: { strategy: 'sma-cross' } });
    // 10 000 − 0.1 × 100 − 0.05
    expect(decimalText(pf.exact!.cash)).toBe('9989.95');
    await store.close();
  });

  it('refuses a stored capital cap or multiplier it cannot read, rather than show a wrong book', async () => {
    const store = await backend.open();
    await expect(
      rebuildBook(store, { id: 'a', symbols: ['BTC/USDT'], config: { capitalCap: 'lots' } }),
    ).rejects.toThrow(DataError);
    await store.kv.set(multipliersKey('b'), { 'BTC/USDT': -1 });
    await expect(rebuildBook(store, { id: 'b', symbols: ['BTC/USDT'], config: {} })).rejects.toThrow(
      /deployment b: the stored contract multipliers are not positive numbers/,
    );
    await store.close();
  });

  it('books every stored fill, past 100 000 (where the store used to stop reading)', async () => {
    const store = await backend.open();
    const n = 100_001;
    const rows = Array.from({ length: n }, (_, k) =>
      fillToRow({ ...fill(`m${k}`, 'buy', '1', '1', '0', k), strategyId: 'many', symbol: 'BTC/USDT' }),
    );
    await store.fills.insertRows(rows);
    const pf = await rebuildBook(store, { id: 'many', symbols: ['BTC/USDT'], config: {} });
    expect(decimalText(pf.exact!.qty[0])).toBe(String(n));
    await store.close();
  }, 120_000);
});
