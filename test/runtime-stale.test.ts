import { afterEach, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../src/core/events.js';
import type { Strategy } from '../src/strategy/types.js';
import { assembleDeployment } from './fixtures/runtime/kit.js';
import { MemoryVenue } from './fixtures/runtime/memory-venue.js';
import { waitFor } from './fixtures/wait.js';

// DATA-4: the engine stays up through a feed outage, publishes data.stale/data.resumed, and blocks new entries
// (STALE_DATA, through the risk engine) while exits still reach the venue.
const idle: Strategy = {};
let close: (() => void) | undefined;
afterEach(() => close?.());

describe('stale market data', () => {
  it('blocks entries but not exits, and resumes', async () => {
    const venue = new MemoryVenue();
    const d = await assembleDeployment(venue, idle, { barMs: 50, staleAfterMs: 150 });
    const events: DomainEvent[] = [];
    d.bus.subscribe('*', (e: DomainEvent) => events.push(e));
    d.bridge.start();
    d.feed.start();
    close = () => {
      d.feed.close();
      d.bridge.close();
    };
    let p = 100;
    const pump = setInterval(() => venue.pushTicker('BTC/USDT', (p += 0.5)), 10);
    try {
      await waitFor('bars', () => d.feed.liveBars >= 2);
      expect(
        d.engine.submitIntent({ strategyId: 'kit', symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 1 }),
      ).not.toBeNull();
      await waitFor('the entry fill', () => d.engine.portfolio.qty[0] === 1);
    } finally {
      clearInterval(pump);
    }
    // The feed goes silent: stale, published, alerted; the engine keeps running.
    await waitFor('stale', () => d.feed.stale.has('BTC/USDT'));
    expect(
      events.some(
        (e) => e.name === 'data.stale.v1' && (e as DomainEvent<'data.stale.v1'>).payload.symbol === 'BTC/USDT',
      ),
    ).toBe(true);
    expect(events.some((e) => e.name === 'alert.raised.v1')).toBe(true);
    expect(d.engine.riskView.isStale('BTC/USDT')).toBe(true);
    const placed = venue.placed;
    expect(
      d.engine.submitIntent({ strategyId: 'kit', symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 1 }),
    ).toBeNull();
    expect(d.engine.riskEvents.at(-1)?.code).toBe('STALE_DATA');
    const exit = d.engine.submitIntent({
      strategyId: 'kit',
      symbol: 'BTC/USDT',
      side: 'sell',
      type: 'market',
      quantity: 1,
      reduceOnly: true,
    });
    expect(exit).not.toBeNull();
    await waitFor('the exit fill', () => d.engine.portfolio.qty[0] === 0);
    expect(venue.placed).toBe(placed + 1);
    // Data flows again: resumed, entries allowed.
    const pump2 = setInterval(() => venue.pushTicker('BTC/USDT', (p += 0.5)), 10);
    try {
      await waitFor('resumed', () => !d.feed.stale.has('BTC/USDT'));
      expect(events.some((e) => e.name === 'data.resumed.v1')).toBe(true);
      expect(
        d.engine.submitIntent({ strategyId: 'kit', symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 1 }),
      ).not.toBeNull();
    } finally {
      clearInterval(pump2);
    }
  });

  it('warm-up bars never place orders', async () => {
    const venue = new MemoryVenue();
    const eager: Strategy = { onBar: (ctx) => void ctx.buy({ quantity: 1 }) };
    const d = await assembleDeployment(venue, eager);
    d.gate.warming = true;
    const t0 = Math.floor(Date.now() / 60_000) * 60_000 - 10 * 60_000;
    const bars = Array.from({ length: 5 }, (_, i) => ({
      time: t0 + i * 60_000,
      open: 100,
      high: 101,
      low: 99,
      close: 100,
      volume: 1,
    }));
    const n = await d.feed.warmUp(async () => bars, 5);
    expect(n).toBe(5);
    expect(d.engine.exec.ordersCreated).toBe(0);
    expect(venue.placed).toBe(0);
    d.gate.warming = false;
    venue.pushTicker('BTC/USDT', 100);
    expect(d.engine.portfolio.last[0]).toBe(100);
  });
});
