import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DomainEvent } from '../src/core/events.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import { ClockDriftGuard } from '../src/ops/clock-drift.js';
import { CcxtVenue } from '../src/venues/ccxt/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { ManualClock } from './ops-fakes.js';

/** A venue whose clock runs `offset` ms ahead of ours and whose answer takes `rtt` ms (half each way). */
function fakeVenue(clock: ManualClock, state: { offset: number; rtt: number; fail?: boolean; truncate?: boolean }) {
  return async (): Promise<number> => {
    if (state.fail) throw new Error('ECONNREFUSED 127.0.0.1:9');
    clock.time += state.rtt / 2;
    const stamped = clock.time + state.offset; // stamped when the venue handles the request
    // An HTTP Date header (IG's only clock) truncates to the second.
    const server = state.truncate ? Math.floor(stamped / 1000) * 1000 : stamped;
    clock.time += state.rtt / 2;
    return server;
  };
}

function setup(
  state: { offset: number; rtt: number; fail?: boolean; truncate?: boolean },
  extra: { samples?: number; resolutionMs?: number } = {},
) {
  const clock = new ManualClock();
  const bus = new InProcessEventBus();
  const alerts: DomainEvent<'alert.raised.v1'>[] = [];
  bus.subscribe('alert.raised.v1', (e: DomainEvent<'alert.raised.v1'>) => void alerts.push(e));
  const guard = new ClockDriftGuard({
    fetchServerTime: fakeVenue(clock, state),
    clock,
    bus,
    intervalMs: 30_000,
    reference: 'binance',
    ...extra,
  });
  return { clock, guard, alerts };
}

describe('ClockDriftGuard (OPS-6)', () => {
  it('compensates for the round trip: a 400 ms round trip does not read as drift', async () => {
    const { guard, alerts } = setup({ offset: 12, rtt: 400 });
    expect(guard.allowsTrading()).toBe(false); // unknown drift blocks
    await guard.start();
    expect(guard.lastDriftMs).toBeCloseTo(12, 6);
    expect(guard.lastMeasurement?.roundTripMs).toBe(400);
    expect(guard.allowsTrading()).toBe(true);
    expect(alerts).toHaveLength(0);
    guard.stop();
  });

  it('blocks beyond 50 ms in either direction, alerts once, and announces recovery', async () => {
    const state = { offset: -20, rtt: 10 };
    const { clock, guard, alerts } = setup(state);
    await guard.start();
    expect(guard.allowsTrading()).toBe(true);

    state.offset = 73; // our clock falls behind the venue
    await clock.advance(30_000);
    expect(guard.allowsTrading()).toBe(false);
    expect(guard.lastDriftMs).toBeCloseTo(73, 6);
    expect(guard.blockReason).toBe('clock drift 73.0 ms (±5.0 ms) exceeds 50 ms');
    expect(alerts).toHaveLength(1);
    expect(alerts[0].payload).toMatchObject({ severity: 'critical', key: 'clock.drift' });
    expect(alerts[0].payload.message).toContain('against binance');

    state.offset = -61;
    await clock.advance(60_000); // two more measurements, still blocked: no new alert
    expect(guard.allowsTrading()).toBe(false);
    expect(alerts).toHaveLength(1);

    state.offset = 55; // within the limit once the round trip's uncertainty (±5 ms) is allowed for
    await clock.advance(30_000);
    expect(guard.allowsTrading()).toBe(true);
    expect(alerts).toHaveLength(2);
    expect(alerts[1].payload).toMatchObject({ severity: 'info', key: 'clock.drift.recovered' });
    guard.stop();
    expect(clock.pending).toBe(0);
  });

  it('a reference truncated to whole seconds (resolutionMs) is not read as drift; a drift beyond it still blocks', async () => {
    const state = { offset: 0, rtt: 10, truncate: true };
    // Without the resolution, the truncation (here 900 ms and more) reads as our clock being ahead: trading blocked.
    const naive = setup({ ...state });
    naive.clock.time = 1_700_000_000_000 + 900;
    await naive.guard.start();
    expect(naive.guard.allowsTrading()).toBe(false);
    naive.guard.stop();
    const { clock, guard } = setup(state, { resolutionMs: 1_000 });
    clock.time = 1_700_000_000_000 + 900;
    await guard.start();
    expect(guard.allowsTrading()).toBe(true);
    state.offset = 1_500; // the venue's clock 1.5 s ahead: more than the truncation can explain
    await clock.advance(30_000);
    expect(guard.allowsTrading()).toBe(false);
    guard.stop();
  });

  it('uses the sample with the shortest round trip', async () => {
    const clock = new ManualClock();
    const rtts = [900, 20, 300];
    let i = 0;
    const guard = new ClockDriftGuard({
      clock,
      samples: 3,
      // Asymmetric slow answers skew the midpoint; the 20 ms sample is the trustworthy one.
      fetchServerTime: async () => {
        const rtt = rtts[i++];
        clock.time += rtt * 0.9;
        const server = clock.time + 5;
        clock.time += rtt * 0.1;
        return server;
      },
    });
    const m = await guard.measure();
    expect(m?.roundTripMs).toBe(20);
    expect(m?.driftMs).toBeCloseTo(5 + 20 * 0.4, 6);
    expect(guard.allowsTrading()).toBe(true);
  });

  it('blocks when the reference cannot be reached at start, and when measurements go stale', async () => {
    const state = { offset: 0, rtt: 10, fail: true };
    const { clock, guard, alerts } = setup(state);
    await guard.start();
    expect(guard.allowsTrading()).toBe(false);
    expect(guard.blockReason).toContain('cannot be measured: ECONNREFUSED');
    expect(alerts).toHaveLength(1);

    state.fail = false;
    await clock.advance(30_000);
    expect(guard.allowsTrading()).toBe(true);
    expect(alerts).toHaveLength(2);

    state.fail = true; // the reference disappears: last good value is trusted for 5 intervals, then blocks
    await clock.advance(5 * 30_000);
    expect(guard.allowsTrading()).toBe(true);
    await clock.advance(30_000);
    expect(guard.allowsTrading()).toBe(false);
    expect(guard.blockReason).toContain('stale');
    expect(alerts).toHaveLength(3);
    guard.stop();
  });
});

describe('ClockDriftGuard against the simulator over real ccxt', () => {
  let sim: SimulatorHandle;
  let venue: CcxtVenue;
  beforeAll(async () => {
    sim = await startSimulator({ seed: 5, tickIntervalMs: 0 });
    venue = new CcxtVenue({
      exchange: 'binance',
      apiKey: sim.apiKey,
      secret: sim.secret,
      urls: sim.ccxtUrls(),
      rateLimitMs: 1,
    });
    await venue.connect();
  });
  afterAll(async () => {
    await venue?.close();
    await sim?.close();
  });

  /** Runs the guard until `n` conclusive measurements were taken; returns every verdict and the last drift. */
  async function run(n: number) {
    const verdicts: boolean[] = [];
    const drifts: number[] = [];
    const bus = new InProcessEventBus();
    const alerts: DomainEvent<'alert.raised.v1'>[] = [];
    bus.subscribe('alert.raised.v1', (e: DomainEvent<'alert.raised.v1'>) => void alerts.push(e));
    let done!: () => void;
    const finished = new Promise<void>((r) => {
      done = r;
    });
    // The re-measure interval shortened from 60 s: n measurements stand for an n-minute run.
    const guard = new ClockDriftGuard({
      fetchServerTime: () => venue.fetchServerTime(),
      bus,
      intervalMs: 10,
      onMeasure: (m, allowed) => {
        verdicts.push(allowed);
        drifts.push(m.driftMs);
        if (verdicts.length === n) done();
      },
    });
    await guard.start();
    await finished;
    guard.stop();
    return { verdicts: verdicts.slice(0, n), drifts, alerts };
  }

  it('never halts on request latency: 0 false halts with up to 300 ms injected per request', async () => {
    sim.faults.latencyJitterMs = 300;
    try {
      const { verdicts, alerts } = await run(10);
      expect(verdicts.filter((a) => !a)).toHaveLength(0);
      expect(alerts).toHaveLength(0);
    } finally {
      sim.faults.reset();
    }
  });

  it('detects a real 200 ms skew of the venue clock, and its recovery', async () => {
    sim.state.clockOffsetMs = 200;
    try {
      const { verdicts, drifts, alerts } = await run(2);
      expect(verdicts).toEqual([false, false]);
      expect(drifts[0]).toBeGreaterThan(150);
      expect(alerts[0]?.payload.key).toBe('clock.drift');
    } finally {
      sim.state.clockOffsetMs = 0;
    }
    const after = await run(1);
    expect(after.verdicts).toEqual([true]);
  });
});
