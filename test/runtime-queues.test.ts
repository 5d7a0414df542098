import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveHome } from '../src/app/home.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { resolveConfig } from '../src/core/config.js';
import { Redactor, Vault } from '../src/security/index.js';
import { openStore } from '../src/store/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';

// Issue 18, item 3: every in-process queue of a real runtime is on /metrics with its depth, bound and policy.
const MASTER = randomBytes(32).toString('hex');
let sim: SimulatorHandle;
let dir: string;
let runtime: Runtime | undefined;
beforeAll(async () => {
  sim = await startSimulator({ seed: 7, tickIntervalMs: 50 });
  dir = mkdtempSync(join(tmpdir(), 'tf-runtime-queues-'));
});
afterAll(async () => {
  await runtime?.stop('test end');
  await sim?.close();
  rmSync(dir, { recursive: true, force: true });
});

const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe('bounded queues of the runtime', () => {
  it('/metrics shows the depth, bound and policy of every queue', async () => {
    const home = resolveHome({}, join(dir, 'home'));
    // An unlocked vault: the runtime appends to the audit log, so its queue exists.
    const seed = await openStore({ home });
    await Vault.create(seed, { masterKey: MASTER }, { redactor: new Redactor() });
    await seed.close();
    const config = resolveConfig({
      server: { port: 0 },
      venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
      deployments: [
        { id: 'qd', strategy: 'sma-cross', params: { fast: 100, slow: 200 }, venue: 'sim', symbols: ['BTC/USDT'] },
      ],
      runtime: { barSeconds: 1, warmupBars: 3, pollMs: 100, staleAfterSeconds: 30, heartbeatSeconds: 5 },
    });
    runtime = await startRuntime({ config, profile: 'dev', home, env: { TRADEFORGE_MASTER_KEY: MASTER } });
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
