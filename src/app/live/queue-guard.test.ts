import { describe, expect, it } from 'vitest';
import type { DomainEvent } from '../../core/events.js';
import { InProcessEventBus } from '../../engine/event-bus.js';
import { OpsMetrics } from '../../ops/metrics.js';
import { createRiskEngine } from '../../risk/index.js';
import { BatchQueue } from '../../store/batch-queue.js';
import { QUEUE_HALT_ACTOR, QueueGuard } from './queue-guard.js';

describe('QueueGuard', () => {
  it('halts new exposure and raises a critical alert when a halt queue passes its bound, even before the risk engine exists', async () => {
    const bus = new InProcessEventBus();
    const alerts: DomainEvent<'alert.raised.v1'>[] = [];
    bus.subscribe('alert.raised.v1', (e: DomainEvent<'alert.raised.v1'>) => alerts.push(e));
    const metrics = new OpsMetrics({ processMetrics: false });
    const guard = new QueueGuard(bus, metrics);
    const q = new BatchQueue<number>(async () => {}, {
      flushMs: 1_000_000,
      maxBatch: 1_000_000,
      onError: () => {},
      name: 'persist',
      capacity: 2,
      onOverflow: guard.overflow,
    });
    guard.watch(q);
    for (let k = 0; k < 3; k++) q.push(k);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].payload).toMatchObject({ severity: 'critical', title: 'Queue full: trading halted' });
    expect(alerts[0].payload.message).toContain('queue persist past its bound (3 waiting, bound 2)');
    expect(await metrics.metrics()).toContain('tradeforge_queue_depth{queue="persist"} 3');

    // The account's risk engine comes later in start-up: the halt is applied when it is bound.
    const risk = createRiskEngine({}, { useDefaults: false, mode: 'paper' });
    expect(risk.isHalted()).toBe(false);
    guard.bindHalt((reason) => risk.halt(QUEUE_HALT_ACTOR, reason));
    expect(risk.isHalted()).toBe(true);
    expect(risk.status().map((s) => s.breaker)).toContain('HALTED');
    await q.flush();
    expect(await metrics.metrics()).toContain('tradeforge_queue_depth{queue="persist"} 0');
    guard.close();
    expect(await metrics.metrics()).not.toContain('tradeforge_queue_depth{queue="persist"}');
  });
});
