import { describe, expect, it } from 'vitest';
import { simBed, simDeployment } from './fixtures/runtime/sim-bed.js';

// Issue 18, item 3: every in-process queue of a real runtime is on /metrics with its depth, bound and policy.
const bed = simBed('runtime-queues', 7);

const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('bounded queues of the runtime', () => {
  it('/metrics shows the depth, bound and policy of every queue', async () => {
    // An unlocked vault: the runtime appends to the audit log, so its queue exists.
    const { runtime } = await bed.start(
      {
        deployments: [simDeployment('qd')],
        runtime: { barSeconds: 1, warmupBars: 3, pollMs: 100, staleAfterSeconds: 30, heartbeatSeconds: 5 },
      },
      { vault: true },
    );
    const text = await (await fetch(`${runtime.url}/metrics`)).text();
    const expected: [string, string][] = [
      ['persist', 'halt'],
      ['audit', 'halt'],
      ['orders.qd', 'halt'],
      ['venue_reports.qd', 'halt'],
      ['alerts', 'drop_oldest'],
      ['ws', 'drop_oldest'],
    ];
    for (const [queue, policy] of expected) {
      const depth = sample(text, `tradeforge_queue_depth{queue="${queue}"}`);
      expect(depth, queue).toBeGreaterThanOrEqual(0);
      expect(sample(text, `tradeforge_queue_capacity{queue="${queue}",policy="${policy}"}`), queue).toBeGreaterThan(0);
    }
    for (const queue of ['alerts', 'ws'])
      expect(sample(text, `tradeforge_queue_dropped_total{queue="${queue}"}`)).toBe(0);
  }, 120_000);
});
