import { describe, expect, it } from 'vitest';
import { defineInstrument } from '../core/instrument.js';
import { kellyFraction, roundOrderPrice, sizeOrder, TradeStats } from './sizing.js';

const btc = defineInstrument({ symbol: 'BTC/USD', lotSize: 0.001, tickSize: 0.5, minNotional: 10 });
const es = defineInstrument({ symbol: 'ES', kind: 'future', lotSize: 1, multiplier: 50, tickSize: 0.25 });

function ok(r: ReturnType<typeof sizeOrder>): number {
  if (!r.ok) throw new Error(`expected a size, got ${r.error.message}`);
  return r.quantity;
}

describe('sizeOrder', () => {
  it('fixed amount, rounded down to the lot', () => {
    expect(ok(sizeOrder({ method: 'fixed', amount: 1000 }, { equity: 1e5, price: 30_000, instrument: btc }))).toBe(
      0.033,
    );
  });

  it('fraction of equity', () => {
    expect(ok(sizeOrder({ method: 'fraction', fraction: 0.5 }, { equity: 10_000, price: 100, instrument: btc }))).toBe(
      50,
    );
  });

  it('risk per trade from the stop distance, with the contract multiplier', () => {
    // risk 1% of 100k = 1000; stop 4 points x 50 = 200 per contract -> 5 contracts
    const q = ok(
      sizeOrder({ method: 'risk', riskPerTrade: 0.01 }, { equity: 1e5, price: 4000, stopPrice: 3996, instrument: es }),
    );
    expect(q).toBe(5);
    const r = sizeOrder({ method: 'risk', riskPerTrade: 0.01 }, { equity: 1e5, price: 4000, instrument: es });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.reason).toBe('SIZING_INVALID');
  });

  it('caps at maxSize and refuses below minSize and below the instrument minimum notional', () => {
    expect(
      ok(sizeOrder({ method: 'fraction', fraction: 1, maxSize: 2 }, { equity: 1e6, price: 100, instrument: btc })),
    ).toBe(2);
    const small = sizeOrder({ method: 'fixed', amount: 50, minSize: 1 }, { equity: 1e6, price: 100, instrument: btc });
    expect(small.ok).toBe(false);
    if (!small.ok) expect([small.error.reason, small.error.limit, small.error.actual]).toEqual(['MIN_SIZE', 1, 0.5]);
    const dust = sizeOrder({ method: 'fixed', amount: 5 }, { equity: 1e6, price: 100, instrument: btc });
    expect(dust.ok).toBe(false);
    if (!dust.ok) expect([dust.error.reason, dust.error.limit, dust.error.actual]).toEqual(['MIN_NOTIONAL', 10, 5]);
  });

  it('Kelly: refuses or falls back to minSize until enough trades, then sizes from win rate and payoff', () => {
    const stats = new TradeStats();
    const cfg = { method: 'kelly' as const, kellyFraction: 0.5, kellyMinTrades: 4 };
    const none = sizeOrder(cfg, { equity: 1e5, price: 100, instrument: btc, stats });
    expect(none.ok).toBe(false);
    if (!none.ok) expect([none.error.reason, none.error.limit, none.error.actual]).toEqual(['SIZING_NO_HISTORY', 4, 0]);
    expect(ok(sizeOrder({ ...cfg, minSize: 0.5 }, { equity: 1e5, price: 100, instrument: btc, stats }))).toBe(0.5);
    // 3 wins of 200, 1 loss of 100: W = 0.75, R = 2 -> f* = 0.75 - 0.25/2 = 0.625; half Kelly 0.3125
    for (const pnl of [200, -100, 200, 200]) stats.record(pnl);
    expect(stats.winRate).toBe(0.75);
    expect(stats.payoff).toBe(2);
    const r = sizeOrder(cfg, { equity: 1e5, price: 100, instrument: btc, stats });
    expect(r.ok && r.fraction).toBe(0.3125);
    expect(ok(r)).toBe(312.5);
  });

  it('Kelly refuses a strategy without an edge', () => {
    const stats = new TradeStats();
    for (const pnl of [50, -100, -100, 50]) stats.record(pnl);
    const r = sizeOrder({ method: 'kelly', kellyMinTrades: 4 }, { equity: 1e5, price: 100, instrument: btc, stats });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.reason).toBe('SIZING_NO_EDGE');
  });
});

describe('kellyFraction and price rounding', () => {
  it('full, half and quarter Kelly, capped at 1', () => {
    expect(kellyFraction(0.6, 1)).toBeCloseTo(0.2, 12);
    expect(kellyFraction(0.6, 1, 0.5)).toBeCloseTo(0.1, 12);
    expect(kellyFraction(0.6, 1, 0.25)).toBeCloseTo(0.05, 12);
    expect(kellyFraction(1, Number.POSITIVE_INFINITY)).toBe(1);
    expect(kellyFraction(0, 0)).toBeLessThan(0);
  });

  it('rounds a buy limit down and a sell limit up to the tick', () => {
    expect(roundOrderPrice(btc, 'buy', 100.7)).toBe(100.5);
    expect(roundOrderPrice(btc, 'sell', 100.2)).toBe(100.5);
  });
});
