import { describe, expect, it } from 'vitest';
import { SimulatedVenue } from '../backtest/simulated-venue.js';
import { barsToColumns } from '../core/bar.js';
import type { DomainEvent, EventName } from '../core/events.js';
import { defineInstrument } from '../core/instrument.js';
import { createRiskEngine } from '../risk/index.js';
import { SimulatedClock } from './clock.js';
import { Engine } from './engine.js';
import { InProcessEventBus } from './event-bus.js';
import { SymbolFeed } from './market-data.js';

const T0 = Date.UTC(2024, 0, 2);

// One symbol at 100, a risk engine capping an order at 1 000 notional, every event recorded.
function setup(correlationPrefix?: string) {
  const clock = new SimulatedClock(T0);
  const columns = barsToColumns(
    [0, 1, 2, 3].map((k) => ({ time: T0 + k * 60_000, open: 100, high: 100, low: 100, close: 100, volume: 1e9 })),
  );
  const bus = new InProcessEventBus();
  const events: DomainEvent[] = [];
  bus.subscribe('*', (e: DomainEvent) => events.push(e));
  const risk = createRiskEngine({ maxOrderNotional: 1_000 }, { mode: 'backtest', useDefaults: false });
  const engine = new Engine({
    mode: 'backtest',
    strategy: {},
    strategyId: 'st',
    feeds: [new SymbolFeed('X/USD', columns, '1m')],
    timeframe: '1m',
    instruments: [defineInstrument({ symbol: 'X/USD', lotSize: 1 })],
    venue: new SimulatedVenue({ clock }),
    clock,
    bus,
    risk,
    cash: 100_000,
    ...(correlationPrefix !== undefined ? { correlationPrefix } : {}),
  });
  engine.start();
  engine.onBar(0, 0);
  const of = <N extends EventName>(name: N) => events.filter((e): e is DomainEvent<N> => e.name === name);
  return { engine, events, of };
}

describe('Engine events for audit and logs', () => {
  it('publishes every risk decision with its inputs, and one correlation id per signal across the chain', () => {
    const { engine, of } = setup('dep.run1.s');
    const order = engine.submitIntent({ strategyId: 'st', symbol: 'X/USD', side: 'buy', type: 'market', quantity: 5 });
    expect(order).not.toBeNull();
    engine.onBar(0, 1);
    const blocked = engine.submitIntent({
      strategyId: 'st',
      symbol: 'X/USD',
      side: 'buy',
      type: 'market',
      quantity: 50,
    });
    expect(blocked).toBeNull();

    const checked = of('risk.checked.v1');
    expect(checked).toHaveLength(2);
    const [ok, no] = checked;
    expect(ok.payload).toMatchObject({ accepted: true, intent: { quantity: 5, side: 'buy' } });
    expect(ok.payload.inputs).toMatchObject({ equity: 100_000, cash: 100_000, position: 0, price: 100, openOrders: 0 });
    expect(no.payload).toMatchObject({ accepted: false, code: 'MAX_NOTIONAL', limit: 1_000 });
    expect(no.payload.inputs?.position).toBe(5);
    // Distinct signals get distinct ids; the accepted one is carried by the order, its fill and the position change.
    expect(ok.correlationId).toBe('dep.run1.s1');
    expect(no.correlationId).toBe('dep.run1.s2');
    const cid = ok.correlationId;
    expect(order?.correlationId).toBe(cid);
    expect(of('order.submitted.v1').map((e) => e.correlationId)).toEqual([cid]);
    expect(of('fill.executed.v1').map((e) => e.payload.fill.correlationId)).toEqual([cid]);
    expect(of('risk.rejected.v1').map((e) => e.correlationId)).toEqual(['dep.run1.s2']);
  });

  it('publishes position.changed.v1 on every fill with the booked position', () => {
    const { engine, of } = setup();
    engine.submitIntent({ strategyId: 'st', symbol: 'X/USD', side: 'buy', type: 'market', quantity: 5 });
    engine.onBar(0, 1);
    engine.submitIntent({ strategyId: 'st', symbol: 'X/USD', side: 'sell', type: 'market', quantity: 2 });
    engine.onBar(0, 2);
    const positions = of('position.changed.v1').map((e) => e.payload.position);
    expect(positions.map((p) => p.quantity)).toEqual([5, 3]);
    expect(positions[1]).toMatchObject({ symbol: 'X/USD', strategyId: 'st', averagePrice: 100 });
    // Without a prefix the order's own id is its correlation id, as before.
    expect(of('risk.checked.v1')[0].payload.intent.correlationId).toBeUndefined();
  });

  it('records halted intents as rejected decisions', () => {
    const { engine, of } = setup('p');
    engine.halt('KILL_SWITCH');
    engine.submitIntent({ strategyId: 'st', symbol: 'X/USD', side: 'buy', type: 'market', quantity: 1 });
    const [c] = of('risk.checked.v1');
    expect(c.payload).toMatchObject({ accepted: false, code: 'KILL_SWITCH', inputs: { halt: 'KILL_SWITCH' } });
  });
});
