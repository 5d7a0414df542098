import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../src/core/config.js';
import type { DomainEvent, EventMap } from '../src/core/events.js';
import type { Order } from '../src/core/order.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import type { HealthSnapshot } from '../src/ops/health.js';
import { OpsMetrics } from '../src/ops/metrics.js';
import { type OpsServer, SECURITY_HEADERS, startOpsServer } from '../src/server/ops-server.js';
import { ManualClock } from './ops-fakes.js';

const servers: OpsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

const ev = <N extends keyof EventMap>(name: N, time: number, payload: EventMap[N]): DomainEvent<N> => ({
  name,
  time,
  correlationId: 'c',
  source: 'test',
  payload,
});

const order = (id: string): Order => ({
  id,
  clientOrderId: `c-${id}`,
  strategyId: 's',
  symbol: 'BTC/USDT',
  side: 'buy',
  type: 'market',
  quantity: 1,
  timeInForce: 'GTC',
  reduceOnly: false,
  status: 'submitted',
  filledQuantity: 0,
  averageFillPrice: 0,
  fees: 0,
  createdAt: 0,
  updatedAt: 0,
  source: 'strategy',
  correlationId: 'c',
});

/** Reads one sample value from Prometheus text: `name{labels} value`. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  if (!line) throw new Error(`series ${series} not in metrics output`);
  return Number(line.slice(series.length + 1));
}

describe('ops server (OPS-5) over real HTTP', () => {
  it('listens on the configured host/port from config and env, serving /healthz with security headers', async () => {
    const config = resolveConfig({}, { TRADEFORGE__SERVER__PORT: '0' });
    expect(config.server.host).toBe('127.0.0.1');
    const clock = new ManualClock(Date.now());
    let snapshot: HealthSnapshot = {
      killSwitchActive: false,
      breakers: [{ name: 'dailyLoss', tripped: false }],
      positions: { open: 2, symbols: ['BTC/USDT', 'ETH/USDT'], grossNotional: 12_500, unrealisedPnl: 42 },
      lastHeartbeatAt: clock.now() - 30_000,
      entriesEnabled: true,
      clockDrift: { allowed: true, driftMs: 3 },
      version: '0.1.0',
    };
    const server = await startOpsServer({
      host: config.server.host,
      port: config.server.port,
      health: { snapshot: () => snapshot },
      metrics: new OpsMetrics({ processMetrics: false }),
      clock,
    });
    servers.push(server);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.port).toBeGreaterThan(0);

    let res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) expect(res.headers.get(k)).toBe(v);
    let body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({
      status: 'ok',
      reasons: [],
      heartbeat: { lagSeconds: 30, maxAgeSeconds: 120 },
      positions: { open: 2, symbols: ['BTC/USDT', 'ETH/USDT'] },
      breakers: [{ name: 'dailyLoss', tripped: false }],
      killSwitchActive: false,
    });

    snapshot = {
      ...snapshot,
      breakers: [{ name: 'dailyLoss', tripped: true, detail: 'loss 3.1 %' }],
      lastHeartbeatAt: clock.now() - 130_000,
    };
    res = await fetch(`${server.url}/healthz`);
    body = (await res.json()) as Record<string, unknown>;
    expect(res.status).toBe(200);
    expect(body.status).toBe('degraded');
    expect(body.reasons).toEqual(['breaker dailyLoss tripped: loss 3.1 %', 'heartbeat 130 s old']);

    snapshot = { ...snapshot, killSwitchActive: true };
    res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { status: string }).status).toBe('halted');

    res = await fetch(`${server.url}/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('answers 503 when the health source fails', async () => {
    const server = await startOpsServer({
      port: 0,
      health: {
        snapshot: async () => {
          throw new Error('store closed');
        },
      },
      metrics: new OpsMetrics({ processMetrics: false }),
    });
    servers.push(server);
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'degraded', reasons: ['health source failed: store closed'] });
  });

  it('refuses a port in use with a one-line config error', async () => {
    const first = await startOpsServer({
      port: 0,
      health: { snapshot: () => ({ killSwitchActive: false, breakers: [], positions: { open: 0 } }) },
      metrics: new OpsMetrics({ processMetrics: false }),
    });
    servers.push(first);
    await expect(
      startOpsServer({
        port: first.port,
        health: { snapshot: () => ({ killSwitchActive: false, breakers: [], positions: { open: 0 } }) },
        metrics: new OpsMetrics({ processMetrics: false }),
      }),
    ).rejects.toThrow(`config server.port: cannot listen on 127.0.0.1:${first.port} (EADDRINUSE)`);
  });

  it('exposes Prometheus metrics fed by bus events and setters', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const bus = new InProcessEventBus();
    const metrics = new OpsMetrics({ bus, clock });
    const server = await startOpsServer({
      port: 0,
      health: { snapshot: () => ({ killSwitchActive: false, breakers: [], positions: { open: 0 } }) },
      metrics,
    });
    servers.push(server);
    const t = clock.now();
    // Five orders: three a while ago (outside the one-minute window at scrape time), two recent.
    for (let i = 0; i < 5; i++)
      bus.publish(ev('order.submitted.v1', t + (i < 3 ? 0 : 50_000), { order: order(`o${i}`) }));
    bus.publish(ev('order.accepted.v1', t + 4, { order: order('o0') })); // 4 ms ack
    bus.publish(ev('order.rejected.v1', t + 300, { order: order('o1') })); // 300 ms
    bus.publish(
      ev('fill.executed.v1', t + 50_020, {
        fill: {
          id: 'f1',
          orderId: 'o3',
          clientOrderId: 'c-o3',
          strategyId: 's',
          symbol: 'BTC/USDT',
          side: 'sell',
          price: 1,
          quantity: 1,
          fee: 0,
          liquidity: 'taker',
          time: t,
        },
      }),
    );
    const intent = { strategyId: 's', symbol: 'BTC/USDT', side: 'buy' as const, type: 'market' as const, quantity: 1 };
    bus.publish(ev('risk.rejected.v1', t, { intent, code: 'MAX_ORDER_NOTIONAL', detail: 'x' }));
    bus.publish(ev('risk.rejected.v1', t, { intent, code: 'MAX_ORDER_NOTIONAL', detail: 'x' }));
    bus.publish(ev('risk.rejected.v1', t, { intent, code: 'CLOCK_DRIFT', detail: 'x' }));
    bus.publish(ev('equity.updated.v1', t, { equity: 10_000, cash: 10_000 }));
    bus.publish(ev('equity.updated.v1', t, { equity: 12_000, cash: 10_000 }));
    bus.publish(ev('equity.updated.v1', t, { equity: 10_800, cash: 10_000 }));
    bus.publish(ev('heartbeat.beat.v1', t + 10_000, { seq: 1 }));
    metrics.setQueueDepth('events', 7);
    metrics.setQueueDepth('persist', 2);
    metrics.observeOrderLatency(1500, 'venue_rtt');
    metrics.setClockDrift(-12.5);
    clock.time = t + 70_000;

    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    const text = await res.text();
    expect(sample(text, 'tradeforge_orders_submitted_total')).toBe(5);
    expect(sample(text, 'tradeforge_orders_per_minute')).toBe(2);
    expect(sample(text, 'tradeforge_fills_total{side="sell"}')).toBe(1);
    expect(sample(text, 'tradeforge_order_latency_seconds_count{stage="ack"}')).toBe(3);
    expect(sample(text, 'tradeforge_order_latency_seconds_bucket{le="0.005",stage="ack"}')).toBe(1);
    expect(sample(text, 'tradeforge_order_latency_seconds_bucket{le="0.025",stage="ack"}')).toBe(2);
    expect(sample(text, 'tradeforge_order_latency_seconds_bucket{le="0.25",stage="ack"}')).toBe(2);
    expect(sample(text, 'tradeforge_order_latency_seconds_bucket{le="0.5",stage="ack"}')).toBe(3);
    expect(sample(text, 'tradeforge_order_latency_seconds_sum{stage="ack"}')).toBeCloseTo(0.004 + 0.3 + 0.02, 9);
    expect(sample(text, 'tradeforge_order_latency_seconds_count{stage="venue_rtt"}')).toBe(1);
    expect(sample(text, 'tradeforge_risk_rejections_total{code="MAX_ORDER_NOTIONAL"}')).toBe(2);
    expect(sample(text, 'tradeforge_risk_rejections_total{code="CLOCK_DRIFT"}')).toBe(1);
    expect(sample(text, 'tradeforge_equity')).toBe(10_800);
    expect(sample(text, 'tradeforge_drawdown_ratio')).toBeCloseTo(0.1, 12);
    expect(sample(text, 'tradeforge_heartbeat_lag_seconds')).toBe(60);
    expect(sample(text, 'tradeforge_heartbeat_last_timestamp_seconds')).toBe((t + 10_000) / 1000);
    expect(sample(text, 'tradeforge_queue_depth{queue="events"}')).toBe(7);
    expect(sample(text, 'tradeforge_queue_depth{queue="persist"}')).toBe(2);
    expect(sample(text, 'tradeforge_clock_drift_ms')).toBe(-12.5);
    expect(text).toContain('tradeforge_process_resident_memory_bytes');

    // Its own registry: a second instance starts from zero and does not clash.
    const other = new OpsMetrics({ processMetrics: false });
    expect(sample(await other.metrics(), 'tradeforge_orders_submitted_total')).toBe(0);
    metrics.close();
    bus.publish(ev('order.submitted.v1', t, { order: order('late') }));
    expect(sample(await metrics.metrics(), 'tradeforge_orders_submitted_total')).toBe(5);
  });

  it('keeps one equity and drawdown series per deployment, and the account as their sum', async () => {
    const bus = new InProcessEventBus();
    const metrics = new OpsMetrics({ bus, processMetrics: false });
    const t = Date.UTC(2026, 0, 1);
    const eq = (strategyId: string, equity: number) =>
      bus.publish(ev('equity.updated.v1', t, { equity, cash: equity, strategyId }));
    eq('a', 10_000);
    eq('b', 5_000);
    eq('a', 9_000); // a: 10% below its own peak
    eq('b', 6_000); // b: a new peak
    const text = await metrics.metrics();
    expect(sample(text, 'tradeforge_deployment_equity{deployment="a"}')).toBe(9_000);
    expect(sample(text, 'tradeforge_deployment_equity{deployment="b"}')).toBe(6_000);
    expect(sample(text, 'tradeforge_deployment_drawdown_ratio{deployment="a"}')).toBeCloseTo(0.1, 12);
    expect(sample(text, 'tradeforge_deployment_drawdown_ratio{deployment="b"}')).toBe(0);
    expect(sample(text, 'tradeforge_equity')).toBe(15_000);
    // The account's peak was 15 000 (10 000 + 5 000), its low 14 000: drawdown follows the sum, not one book.
    expect(sample(text, 'tradeforge_drawdown_ratio')).toBe(0);
    eq('a', 8_500);
    expect(sample(await metrics.metrics(), 'tradeforge_drawdown_ratio')).toBeCloseTo(500 / 15_000, 12);
    metrics.close();
  });
});
