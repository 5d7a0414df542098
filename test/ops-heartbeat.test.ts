import { describe, expect, it } from 'vitest';
import type { DomainEvent, EventMap } from '../src/core/events.js';
import { InProcessEventBus } from '../src/engine/event-bus.js';
import { type Beat, Heartbeat, Watchdog } from '../src/ops/heartbeat.js';
import { ManualClock } from './ops-fakes.js';

function collect<N extends keyof EventMap>(bus: InProcessEventBus, name: N): DomainEvent<N>[] {
  const out: DomainEvent<N>[] = [];
  bus.subscribe(name, (e: DomainEvent<N>) => void out.push(e));
  return out;
}

describe('Heartbeat (OPS-2)', () => {
  it('beats at start and every 60 s, publishing heartbeat.beat.v1 and persisting each beat', async () => {
    const clock = new ManualClock();
    const bus = new InProcessEventBus();
    const events = collect(bus, 'heartbeat.beat.v1');
    const stored: Beat[] = [];
    const hb = new Heartbeat({ bus, clock, persist: (b) => void stored.push(b) });
    const t0 = clock.now();
    hb.start();
    await clock.advance(180_000);
    expect(stored.map((b) => b.seq)).toEqual([1, 2, 3, 4]);
    expect(stored.map((b) => b.time - t0)).toEqual([0, 60_000, 120_000, 180_000]);
    expect(events.map((e) => e.payload.seq)).toEqual([1, 2, 3, 4]);
    expect(events[3]).toMatchObject({ source: 'ops:heartbeat', time: t0 + 180_000 });
    hb.stop();
    expect(clock.pending).toBe(0);
    await clock.advance(600_000);
    expect(stored).toHaveLength(4);
  });

  it('keeps beating when persist fails and reports the error', async () => {
    const clock = new ManualClock();
    const bus = new InProcessEventBus();
    const errors: unknown[] = [];
    let calls = 0;
    const hb = new Heartbeat({
      bus,
      clock,
      intervalMs: 1000,
      persist: async () => {
        calls++;
        if (calls === 2) throw new Error('database is locked');
      },
      onError: (e) => errors.push(e),
    });
    hb.start();
    await clock.advance(3000);
    hb.stop();
    expect(calls).toBe(4);
    expect(errors).toHaveLength(1);
    expect(hb.lastBeat?.seq).toBe(4);
  });
});

describe('Watchdog (OPS-2)', () => {
  it('raises one critical alert per outage after 120 s without a beat and a recovery notice', async () => {
    const clock = new ManualClock();
    const bus = new InProcessEventBus();
    const alerts = collect(bus, 'alert.raised.v1');
    let last: number | undefined;
    const hb = new Heartbeat({ bus, clock, persist: (b) => void (last = b.time) });
    const changes: boolean[] = [];
    const wd = new Watchdog({ bus, clock, lastBeat: () => last, onChange: (s) => changes.push(s.lost) });
    hb.start();
    wd.start();
    await clock.advance(10 * 60_000);
    expect(alerts).toHaveLength(0);
    expect(wd.current.lost).toBe(false);
    expect(wd.current.lagMs).toBeLessThanOrEqual(60_000);

    hb.stop(); // the runtime hangs: no more beats
    const stoppedAt = last!;
    await clock.advance(115_000);
    expect(alerts).toHaveLength(0); // 115 s is still within the limit
    await clock.advance(5 * 60_000);
    expect(alerts).toHaveLength(1); // once per outage, not once per check
    expect(alerts[0].payload).toMatchObject({ severity: 'critical', title: 'Heartbeat lost', key: 'heartbeat.lost' });
    expect(alerts[0].time - stoppedAt).toBeGreaterThan(120_000);
    expect(alerts[0].time - stoppedAt).toBeLessThanOrEqual(135_000);
    expect(wd.current.lost).toBe(true);

    hb.start();
    await clock.advance(15_000);
    expect(alerts).toHaveLength(2);
    expect(alerts[1].payload).toMatchObject({ severity: 'info', key: 'heartbeat.recovered' });
    expect(changes).toEqual([true, false]);
    hb.stop();
    wd.stop();
    expect(clock.pending).toBe(0);
  });

  it('treats an unreadable or missing heartbeat as lost', async () => {
    const clock = new ManualClock();
    const bus = new InProcessEventBus();
    const alerts = collect(bus, 'alert.raised.v1');
    const wd = new Watchdog({
      bus,
      clock,
      lastBeat: async () => {
        throw new Error('no such table: heartbeats');
      },
    });
    const state = await wd.check();
    expect(state.lost).toBe(true);
    expect(alerts[0].payload.message).toContain('no such table: heartbeats');
    const never = new Watchdog({ bus, clock, lastBeat: () => undefined });
    expect((await never.check()).lost).toBe(true);
    expect(alerts[1].payload.message).toContain('no heartbeat has been recorded');
  });
});
