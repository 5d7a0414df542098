import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smokeData, storeVersionSink } from '../src/app/agent-services.js';
import { resolveHome } from '../src/app/home.js';
import { type Actor, Promotion, PromotionRefusedError } from '../src/app/promotion.js';
import { type Runtime, startRuntime } from '../src/app/runtime.js';
import { generateStrategy } from '../src/authoring/agents/generate.js';
import { OpenAiProvider } from '../src/authoring/agents/openai-provider.js';
import { DEFAULT_RETRY } from '../src/authoring/agents/retry.js';
import { resolveConfig } from '../src/core/config.js';
import { ConfigError } from '../src/core/errors.js';
import { openStore, type Store } from '../src/store/index.js';
import { type SimulatorHandle, startSimulator } from '../src/venues/simulator/index.js';
import { FakeLlmServer } from './agents-llm-server.js';
import { ZIGZAG_RULES, zigzag } from './fixtures/zigzag.js';
import { waitFor } from './fixtures/wait.js';

// Issue 14, "Done when": generate -> gate -> 14 simulated days of dry run -> divergence report -> promote -> the live
// profile runs it. The strategy comes from the local LLM server (the OpenAI protocol), is stored as a draft version,
// gated on history, dry-run by the runtime (`dry_run` profile) on the exchange simulator over real ccxt, replayed
// against its fills, promoted by an admin, and started by the runtime's `live` profile. The simulator's clock is the
// test's and so is the promotion's: one price per daily bar, as fast as the runtime answers.
const DAY = 86_400_000;
const SYMBOL = 'BTC/USDT';
const ADMIN: Actor = { name: 'alice', role: 'admin' };
const KEY = randomBytes(32);
/** Down 1, up 1, up 2: the zigzag strategy buys after the dip and sells after the rise (hundreds: 1 bp spread). */
const DRY_PATH = [100, 98, 99, 101, 100, 101, 103, 102, 103, 105, 104, 105, 107, 106, 107, 109].map((p) => p * 100);

const fake = new FakeLlmServer();
let dir: string;
let store: Store;
/** The simulators' and the promotion's clock (virtual). */
let now = 0;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(async () => {
  await fake.start();
  dir = mkdtempSync(join(tmpdir(), 'tf-promotion-path-'));
  // Ahead of real time and on a day boundary, so daily bars start where the dry run starts.
  now = Math.ceil(Date.now() / DAY) * DAY + DAY;
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await store?.close();
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

async function simulator(): Promise<SimulatorHandle> {
  const sim = await startSimulator({
    seed: 14,
    tickIntervalMs: 0,
    balances: { USDT: 10_000 },
    now: () => now,
    requestClock: Date.now,
  });
  cleanups.push(() => sim.close());
  return sim;
}

function runtimeConfig(sim: SimulatorHandle, id: string, strategy: string) {
  return resolveConfig({
    server: { port: 0 },
    venues: [{ id: 'sim', type: 'simulator', options: { url: sim.url } }],
    deployments: [
      {
        id,
        strategy,
        venue: 'sim',
        symbols: [SYMBOL],
        timeframe: '1d',
        stake: 1000,
        fee: 0.001,
        capitalCap: 10_000,
        risk: { orderRate: { perMinute: 1000, perSecond: 100 } },
      },
    ],
    // The account's order budget too (defaults 5/s, 10/min): it is measured on the wall clock and kept in the home
    // across runtimes, so the dry run's five entries, made within a second, refused the live phase's first entry
    // ORDER_RATE whenever that came less than a second later (a quick run: with the user-data stream on, mostly).
    risk: { orderRate: { perMinute: 1000, perSecond: 100 } },
    // Daily bars built from the ticker stream (as the parity test builds minute bars), so one price is one bar.
    runtime: { barSeconds: 86_400, warmupBars: 0, pollMs: 25, staleAfterSeconds: 3600, heartbeatSeconds: 3600 },
  });
}

// A failure detector, not a time budget: generous because the box may be loaded.
/** Serves one price per daily bar; each bar closes when the next day's price arrives and the runtime has acted. */
async function drive(runtime: Runtime, sim: SimulatorHandle, path: readonly number[]): Promise<void> {
  const dep = runtime.deployments[0];
  const e = dep.engine;
  const cols = e.feeds[0].columns;
  const settled = () =>
    dep.bridge.queueDepth === 0 &&
    e.fills === sim.state.trades.length &&
    !e.exec.openOrders().some((o) => o.status === 'submitted' || o.status === 'new');
  const settle = async () => {
    for (let i = 0; i < 2; i++) {
      await waitFor('the venue and our book to agree', settled);
      await dep.bridge.drain();
    }
    await waitFor('the venue and our book to agree', settled);
  };
  const t0 = now;
  const base = cols.length;
  await waitFor('the first tick', () => {
    sim.setPrice('BTCUSDT', path[0]);
    return e.portfolio.last[0] === path[0];
  });
  for (let k = 1; k <= path.length; k++) {
    now = t0 + k * DAY;
    const p = path[Math.min(k, path.length - 1)];
    sim.setPrice('BTCUSDT', p, { match: false });
    await waitFor(`bar ${base + k - 1}`, () => cols.length === base + k);
    sim.setPrice('BTCUSDT', p);
    await settle();
  }
}

describe('from idea to live behind the gates', () => {
  it('generate -> gate -> 14 simulated days of dry run -> divergence report -> promote -> live profile runs it', async () => {
    const home = resolveHome({}, join(dir, 'home'));
    store = await openStore({ home });
    store.audit.setKey(KEY);
    const promotion = new Promotion({ store, dataDir: home.data, now: () => now });

    // 1. Generation from trading rules, answered by the local LLM server; stored as a draft version.
    fake.script({ answer: `Here it is.\n\n\`\`\`rules\n${ZIGZAG_RULES}\`\`\`\n`, chunks: 3 });
    const gen = await generateStrategy(
      { input: { kind: 'rules', text: 'buy after a down day, sell after an up day' }, name: 'Zigzag' },
      {
        providers: [
          new OpenAiProvider({
            name: 'gpt',
            model: 'gpt-test',
            apiKey: 'sk-test-0123456789abcdefghijklmnop',
            baseUrl: `${fake.url}/v1`,
            retry: { ...DEFAULT_RETRY, maxRetries: 0, baseDelayMs: 1 },
          }),
        ],
        smokeData: smokeData(),
        timeoutMs: 60_000,
        runs: store.agentRuns,
        versions: storeVersionSink(store),
      },
    );
    expect(gen.outcome).toBe('generated');
    expect(gen.version).toMatchObject({ strategyId: 'zigzag', versionId: 'zigzag@v1', version: 1 });
    const ref = 'zigzag@v1';
    expect(await promotion.state(ref)).toBe('draft');

    // 2. The gate: walk-forward on history (74 trades in sample, 25 out of sample, every one a win).
    const gated = await promotion.gate(ADMIN, ref, {
      data: { symbol: 'ZZ', columns: zigzag([{ bars: 200, amp: 2 }]), timeframe: '1d' },
      label: 'zigzag history',
    });
    expect(gated.state).toBe('gated');
    expect(gated.evaluation.folds[0].inSample.trades).toBe(74);

    // The live profile refuses it before it went through the dry run, before any venue is touched.
    const simLive = await simulator();
    const early = await startRuntime({
      config: runtimeConfig(simLive, 'zz-live', ref),
      profile: 'live',
      confirmLive: true,
      home,
      env: {},
      runFile: false,
    }).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(ConfigError);
    expect((early as Error).message).toMatch(/"zigzag@v1" is not approved for live trading: its state is gated/);
    expect(simLive.state.orders).toHaveLength(0);

    // 3. The dry run: `deploy --profile dry_run`, then the runtime's dry_run profile for 15 simulated days.
    await promotion.startDryRun(ADMIN, ref, 'paper on the simulator');
    const dryStart = now;
    const simDry = await simulator();
    const dry = await startRuntime({
      config: runtimeConfig(simDry, 'zz-dry', ref),
      profile: 'dry_run',
      home,
      env: {},
      runFile: false,
    });
    await drive(dry, simDry, DRY_PATH.slice(0, 13));
    // 13 days in, while the runtime keeps running (daily bars are recorded as they close): refused, not complete.
    expect(now - dryStart).toBe(13 * DAY);
    const tooEarly = await promotion.goLive(ADMIN, ref, { confirm: true }).catch((e: unknown) => e);
    expect(tooEarly).toBeInstanceOf(PromotionRefusedError);
    expect((tooEarly as PromotionRefusedError).reasons).toEqual(['the dry run has run 13.0 of 14 days']);
    await drive(dry, simDry, DRY_PATH.slice(12));
    const trades = dry.deployments[0].engine.portfolio.trades.length;
    expect(trades).toBeGreaterThanOrEqual(4);
    await dry.stop('dry run done');
    expect(now - dryStart).toBeGreaterThanOrEqual(14 * DAY);

    // 4 + 5. The divergence report of the dry run against its replay is inside the tolerance: promote to live.
    const live = await promotion.promote(ADMIN, ref, { confirm: true, reason: 'dry run clean' });
    expect(live).toEqual({ ref, from: 'dry_run', to: 'live' });
    const evidence = (await store.lifecycle.history('zigzag', 1)).at(-1)?.evidence as {
      replays: { deployment: string; verdict: string; expected: number; actual: number; matched: number }[];
      dryRun: { days: number; coveredDays: number };
    };
    expect(evidence.replays).toHaveLength(1);
    expect(evidence.replays[0]).toMatchObject({ deployment: 'zz-dry', verdict: 'match' });
    expect(evidence.replays[0].actual).toBe(trades * 2);
    expect(evidence.replays[0].matched).toBe(trades * 2);
    expect(evidence.dryRun.coveredDays).toBeGreaterThanOrEqual(14);
    const transitions = (await store.lifecycle.history('zigzag', 1)).map((t) => `${t.from}->${t.to}`);
    expect(transitions).toEqual(['draft->backtested', 'backtested->gated', 'gated->dry_run', 'dry_run->live']);

    // 6. The live profile runs it: the deployment starts and trades on the venue.
    const running = await startRuntime({
      config: runtimeConfig(simLive, 'zz-live', ref),
      profile: 'live',
      confirmLive: true,
      home,
      env: {},
      runFile: false,
    });
    cleanups.push(() => running.stop('test end'));
    expect(running.deployments.map((d) => d.id)).toEqual(['zz-live']);
    // Every risk decision of the live phase, for the failure message: with the user-data stream on it once placed no
    // order over these four bars (docs/live.md); the bars and the decisions tell a missed signal from a refusal.
    const decisions: string[] = [];
    running.bus.subscribe('risk.checked.v1', ({ payload: p }) =>
      decisions.push(`${p.intent.side} ${p.accepted ? 'accepted' : `refused ${p.code}: ${p.detail}`}`),
    );
    await drive(running, simLive, DRY_PATH.slice(0, 4));
    const cols = running.deployments[0].engine.feeds[0].columns;
    const closes = Array.from(cols.close.subarray(0, cols.length));
    expect(
      simLive.state.orders.length,
      `no order; bar closes ${closes.join()}; risk: ${decisions.join('; ')}`,
    ).toBeGreaterThan(0);
    expect(running.deployments[0].engine.portfolio.trades.length).toBeGreaterThanOrEqual(1);
    expect((await store.deployments.get('zz-live'))?.profile).toBe('live');
    expect((await store.audit.verify(KEY)).ok).toBe(true);
  }, 600_000);
});
