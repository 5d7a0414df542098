import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTelemetry, type Telemetry } from '../src/app/telemetry.js';
import { readCliToken } from '../src/server/api/cli-token.js';
import { simBed, simDeployment } from './fixtures/runtime/sim-bed.js';

// Issue 18, item 2: one order from POST /api/orders to its fill on the simulator (real ccxt over HTTP) is one trace,
// recorded by the SDK's in-memory exporter; its trace id is in the response, the log lines and the audit records.
const exporter = new InMemorySpanExporter();
let telemetry: Telemetry;

// Registered before the bed's hooks: telemetry starts first and (hooks after a file run in reverse) shuts down last.
beforeAll(() => {
  telemetry = startTelemetry({ exporter });
});
afterAll(async () => {
  await telemetry?.shutdown();
});
const bed = simBed('runtime-traces', 11);

// Re-checks on every turn of the event loop (the test's own timeout is the hang guard).
const until = async <T>(get: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> => {
  for (;;) {
    const v = await get();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setImmediate(r));
  }
};

describe('traces of the order path', () => {
  it('follows one order from POST /api/orders to its fill as one trace, in logs and audit records too', async () => {
    const { runtime, home } = await bed.start(
      {
        deployments: [simDeployment('tr')],
        runtime: { barSeconds: 1, warmupBars: 3, pollMs: 100, staleAfterSeconds: 30, heartbeatSeconds: 5 },
      },
      { vault: true },
    );
    const dep = runtime.deployments[0];
    await until(() => dep.engine.portfolio.last[0] > 0 && dep.feed.liveBars > 0);

    const res = await fetch(`${runtime.url}/api/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${readCliToken(home.run)}`, 'content-type': 'application/json' },
      body: JSON.stringify({ symbol: 'BTC/USDT', side: 'buy', type: 'market', quantity: 0.01, confirm: true }),
    });
    const body = (await res.json()) as { accepted: boolean };
    expect(res.status, JSON.stringify(body)).toBe(200);
    expect(body.accepted).toBe(true);
    const traceId = res.headers.get('x-trace-id') as string;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(res.headers.get('traceparent')).toMatch(new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`));

    // The order's span ends when the order is finished (filled): then the whole path is exported.
    const spans = await until(() => {
      const mine = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      return mine.some((s) => s.name === 'bridge.order') && mine.some((s) => s.name.startsWith('HTTP ')) && mine;
    });
    const byName = new Map<string, ReadableSpan>(spans.map((s) => [s.name, s]));
    for (const name of [
      'HTTP POST /api/orders',
      'signal',
      'risk.check',
      'bridge.order',
      'venue.placeOrder',
      'venue.fill',
    ]) {
      expect(byName.has(name), `${name} in ${[...byName.keys()].join(', ')}`).toBe(true);
    }
    const parentOf = (name: string) => byName.get(name)?.parentSpanContext?.spanId;
    const idOf = (name: string) => byName.get(name)?.spanContext().spanId;
    // strategy (the API's signal) -> risk decision -> execution (the bridge's order) -> venue call -> fill.
    expect(parentOf('signal')).toBe(idOf('HTTP POST /api/orders'));
    expect(parentOf('risk.check')).toBe(idOf('signal'));
    expect(parentOf('bridge.order')).toBe(idOf('signal'));
    expect(parentOf('venue.placeOrder')).toBe(idOf('bridge.order'));
    expect(parentOf('venue.fill')).toBe(idOf('bridge.order'));
    expect(byName.get('risk.check')?.attributes['risk.decision']).toBe('accepted');
    expect(byName.get('bridge.order')?.attributes['order.status']).toBe('filled');
    const cid = byName.get('bridge.order')?.attributes['order.client_id'] as string;

    // The log lines of this order carry the trace id (the submit and the fill among them).
    const logFile = join(home.logs, 'tradeforge.log');
    const lines = await until(() => {
      if (!existsSync(logFile)) return false;
      const found = readFileSync(logFile, 'utf8')
        .split('\n')
        .filter((l) => l.includes(traceId))
        .map((l) => JSON.parse(l) as { traceId: string; event?: string; msg?: string });
      return found.some((l) => JSON.stringify(l).includes('fill.executed')) && found;
    });
    expect(lines.every((l) => l.traceId === traceId)).toBe(true);
    expect(lines.some((l) => JSON.stringify(l).includes('order.submitted'))).toBe(true);

    // And so do the audit records of the order.
    const records = await until(async () => {
      const recs = await runtime.store.audit.bySubjects([`order:${cid}`]);
      return recs.some((r) => r.action === 'fill.executed') && recs;
    });
    const traced = records
      .filter((r) => (JSON.parse(r.details) as { traceId?: string }).traceId === traceId)
      .map((r) => r.action);
    expect(traced).toContain('order.submitted');
    expect(traced).toContain('fill.executed');
  }, 120_000);
});
