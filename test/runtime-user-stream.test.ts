/**
 * The runtime's venues read orders and fills stream-first by default (venues[].userStream, src/app/venues.ts): a feed that
 * falls back to REST polling is a warning alert naming the feed and the cause, and the stream comes back.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import type { DomainEvent } from '../src/core/events.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

let dir: string;
let sim: SimulatorHandle;
let runtime: Runtime | undefined;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tf-runtime-user-stream-'));
  sim = await startSimulator({ seed: 6, tickIntervalMs: 50 });
});

afterAll(async () => {
  await runtime?.stop('test end').catch(() => undefined);
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

// A failure detector, not a time budget: generous because the box may be loaded.
const until = async (what: string, cond: () => boolean, ms = 90_000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('runtime on the user-data stream', () => {
  it('alerts when a feed falls back to REST polling, and is back on the stream afterwards', async () => {
    const config = resolveConfig({
      server: { port: 0 },
      venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
      deployments: [
        { id: 'us', strategy: 'sma-cross', params: { fast: 100, slow: 200 }, venue: 'sim', symbols: ['BTC/USDT'] },
      ],
      runtime: { barSeconds: 1, warmupBars: 0, pollMs: 100, staleAfterSeconds: 30, heartbeatSeconds: 60 },
    });
    runtime = await startRuntime({
      config,
      profile: 'dev',
      home: resolveHome({}, join(dir, 'home')),
      env: {},
      runFile: false,
    });
    const alerts: DomainEvent<'alert.raised.v1'>[] = [];
    runtime.bus.subscribe('alert.raised.v1', (e: DomainEvent<'alert.raised.v1'>) => void alerts.push(e));
    // Subscribed (one subscription serves the orders and fills feeds of the venue).
    await until('the user-data subscription', () => sim.userData.subscriptions() >= 1);
    const subscribes = sim.userData.stats.subscribes;
    const polled = sim.requestCount('GET', '/api/v3/myTrades');
    expect(alerts.filter((a) => /REST polling/.test(a.payload.message))).toEqual([]);

    sim.faults.dropUserDataStreams();
    await until('the polling alert', () => alerts.some((a) => /fills: REST polling/.test(a.payload.message)));
    const alert = alerts.find((a) => /fills: REST polling/.test(a.payload.message))!;
    expect(alert.payload.severity).toBe('warning');
    expect(alert.source).toBe('venue:sim');
    expect(alert.payload.message).toMatch(/the user-data stream is down \(.+\); retrying it/);
    // Polling while down, then subscribed again.
    await until('a poll', () => sim.requestCount('GET', '/api/v3/myTrades') > polled);
    await until('the stream again', () => sim.userData.stats.subscribes > subscribes);
  }, 300_000);
});
