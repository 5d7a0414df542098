import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedVenue } from '../src/backtest/simulated-venue.js';
import { barsToColumns } from '../src/core/bar.js';
import { defineInstrument } from '../src/core/instrument.js';
import { SimulatedClock } from '../src/engine/clock.js';
import { Engine } from '../src/engine/engine.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import { SymbolFeed } from '../src/engine/market-data.js';
import { createLogger, subscribeEventLog } from '../src/ops/index.js';
import { createRiskEngine } from '../src/risk/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tf-event-log-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('event log (OPS-1): trading events as JSON lines with one correlation id per signal', () => {
  it('writes the risk decision, order, fill and position of a signal under its correlation id', () => {
    const T0 = Date.UTC(2024, 0, 2);
    const clock = new SimulatedClock(T0);
    const columns = barsToColumns(
      [0, 1, 2].map((k) => ({ time: T0 + k * 60_000, open: 100, high: 100, low: 100, close: 100, volume: 1e9 })),
    );
    const bus = new InProcessEventBus();
    const file = join(dir, 'logs', 'tradeforge.log');
    const logs = createLogger({ file, stdout: false });
    const off = subscribeEventLog(bus, logs.logger, {
      clientOrderIdOf: (o) => `dep-run-${o.id}`,
      deploymentOf: (id) => id,
    });
    const engine = new Engine({
      mode: 'paper',
      strategy: {},
      strategyId: 'dep',
      feeds: [new SymbolFeed('X/USD', columns, '1m')],
      timeframe: '1m',
      instruments: [defineInstrument({ symbol: 'X/USD', lotSize: 1 })],
      venue: new SimulatedVenue({ clock }),
      clock,
      bus,
      risk: createRiskEngine({ maxOrderNotional: 1_000 }, { mode: 'backtest', useDefaults: false }),
      cash: 100_000,
      correlationPrefix: 'dep.r1.s',
    });
    engine.start();
    engine.onBar(0, 0);
    engine.submitIntent({ strategyId: 'dep', symbol: 'X/USD', side: 'buy', type: 'market', quantity: 3 });
    engine.onBar(0, 1);
    engine.submitIntent({ strategyId: 'dep', symbol: 'X/USD', side: 'buy', type: 'market', quantity: 30 });
    off();
    logs.close();

    const rows = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const chain = rows.filter((r) => r.correlationId === 'dep.r1.s1');
    expect(chain.map((r) => r.event)).toEqual([
      'risk.checked.v1',
      'order.submitted.v1',
      'position.changed.v1',
      'fill.executed.v1',
      'order.filled.v1',
    ]);
    expect(chain[0]).toMatchObject({ component: 'risk', level: 'info', accepted: true, deploymentId: 'dep' });
    expect(chain[1]).toMatchObject({
      component: 'execution',
      orderId: 'o1',
      clientOrderId: 'dep-run-o1',
      symbol: 'X/USD',
      strategyId: 'dep',
    });
    expect(chain[3]).toMatchObject({ component: 'engine', orderId: 'o1', price: 100, quantity: 3 });
    for (const r of chain) expect(typeof r.timestamp).toBe('string');
    const rejected = rows.filter((r) => r.correlationId === 'dep.r1.s2');
    expect(rejected.map((r) => r.event)).toEqual(['risk.checked.v1']);
    expect(rejected[0]).toMatchObject({ level: 'warn', accepted: false, code: 'MAX_NOTIONAL' });
    expect(rejected[0].msg).toMatch(/risk rejected buy 30 X\/USD market: MAX_NOTIONAL/);
  });
});
