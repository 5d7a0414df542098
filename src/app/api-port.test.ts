import { describe, expect, it } from 'vitest';
import { SimulatedVenue } from '../backtest/simulated-venue.js';
import { barsToColumns } from '../core/bar.js';
import type { RiskConfig } from '../core/config.js';
import { defineInstrument } from '../core/instrument.js';
import { SimulatedClock } from '../engine/clock.js';
import { Engine } from '../engine/engine.js';
import { InProcessEventBus } from '../engine/event-bus.js';
import { SymbolFeed } from '../engine/market-data.js';
import type { ControlApi } from '../ops/control-port.js';
import { createRiskEngine } from '../risk/index.js';
import { runtimeApiPort } from './api-port.js';

const T0 = Date.UTC(2024, 0, 2);

// A real kernel and risk engine at 100 per unit: orders over 1 000 notional are refused, one order per minute.
function setup() {
  const clock = new SimulatedClock(T0);
  const columns = barsToColumns(
    [0, 1].map((k) => ({ time: T0 + k * 60_000, open: 100, high: 100, low: 100, close: 100, volume: 1e9 })),
  );
  const bus = new InProcessEventBus();
  const riskConfig: RiskConfig = { maxOrderNotional: 1_000, orderRate: { perMinute: 1, perSecond: 1 } };
  const risk = createRiskEngine(riskConfig, { mode: 'backtest', useDefaults: false });
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
  });
  engine.start();
  engine.onBar(0, 0);
  const port = runtimeApiPort({
    control: {} as ControlApi,
    status: async () => {
      throw new Error('not used');
    },
    bus,
    risk: riskConfig,
    version: { version: '0', gitSha: null, configHash: null },
    deployments: () => [{ id: 'dep', symbols: ['X/USD'], engine }],
  });
  return { engine, risk, port };
}

describe('the runtime API port: order preview', () => {
  it("answers with the risk engine's refusal and its cost, placing and recording nothing", async () => {
    const { engine, risk, port } = setup();
    const d = await port.previewOrder?.({ symbol: 'X/USD', side: 'buy', type: 'market', quantity: 20 });
    expect(d).toMatchObject({ accepted: false, code: 'MAX_NOTIONAL', estimatedCost: 2000 });
    expect(d?.detail).toMatch(/1000|1,000/);
    expect(engine.exec.ordersCreated).toBe(0);
    expect(risk.stats()).toMatchObject({ checked: 0, rejected: 0 });
  });

  it('does not use up the order-rate window: a passing preview leaves room for the real order', async () => {
    const { engine, port } = setup();
    const order = { symbol: 'X/USD', side: 'buy' as const, type: 'market' as const, quantity: 5 };
    expect(await port.previewOrder?.(order)).toEqual({ accepted: true, estimatedCost: 500 });
    expect(await port.previewOrder?.(order)).toEqual({ accepted: true, estimatedCost: 500 });
    const placed = await port.placeOrder?.(order, 'api:alice');
    expect(placed).toMatchObject({ accepted: true, estimatedCost: 500 });
    expect(engine.exec.ordersCreated).toBe(1);
    // The one order of this minute is spent: now the preview tells the truth about the next one.
    expect(await port.previewOrder?.(order)).toMatchObject({ accepted: false, code: 'ORDER_RATE' });
  });

  it('refuses a symbol no deployment trades, naming it', async () => {
    const { port } = setup();
    expect(await port.previewOrder?.({ symbol: 'Y/USD', side: 'sell', type: 'market', quantity: 1 })).toEqual({
      accepted: false,
      code: 'INVALID_ORDER',
      detail: 'no deployment trades Y/USD; name one with "deployment"',
    });
  });
});
